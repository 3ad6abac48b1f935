using System.Collections.Concurrent;
using System.Net.Sockets;
using Qmig.Postcopy.Destination;
using Qmig.Wire;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>receive --postcopy-preempt</c>: accepts the source's further connections in the background
/// and tells them apart by their first bytes (<see cref="IncomingConnection"/>). A preempt channel
/// may stay silent until a page is asked for, so each connection is classified on its own as its
/// first bytes arrive; one that is neither is closed. Going by order instead,
/// as QEMU's destination can after <c>migrate-recover</c>, would race here: qmig keeps listening on
/// the same address, so a resumed main channel can be queued before the break has been noticed.
/// Disposing stops accepting and closes every connection it accepted.
/// </summary>
internal sealed class PreemptChannelAcceptor : IDisposable
{
    private readonly TcpListener _listener;
    private readonly PostcopyDestination _destination;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<Socket> _mainConnections = new();
    private readonly List<Socket> _accepted = [];
    private readonly Task _accepting;

    private PreemptChannelAcceptor(TcpListener listener, PostcopyDestination destination)
    {
        _listener = listener;
        _destination = destination;
        _accepting = Task.Run(async () =>
        {
            while (true)
            {
                var connection = await listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
                lock (_accepted)
                {
                    _accepted.Add(connection);
                }

                _ = Task.Run(() => Classify(connection));
            }
        });
    }

    public static PreemptChannelAcceptor Start(TcpListener listener, PostcopyDestination destination) => new(listener, destination);

    /// <summary>Waits for the source's resumed main connection.</summary>
    public Socket NextMainConnection() => _mainConnections.Take(_stop.Token);

    private void Classify(Socket connection)
    {
        try
        {
            switch (IncomingConnection.Classify(connection, Timeout.InfiniteTimeSpan))
            {
                case IncomingConnectionKind.ResumedMainChannel:
                    _mainConnections.Add(connection);
                    break;
                case IncomingConnectionKind.PreemptChannel:
                    _destination.AttachPreemptChannel(connection);
                    break;
                case IncomingConnectionKind.Unexpected:
                    Console.Error.WriteLine($"qmig: closed a connection from {connection.RemoteEndPoint} that is neither a preempt channel nor a resumed migration; the migration goes on");
                    connection.Dispose();
                    break;
                case IncomingConnectionKind.Closed:
                    break;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Closed while waiting (the migration ended), or a preempt channel nobody may attach any more.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _accepting.Wait();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is OperationCanceledException or SocketException or ObjectDisposedException))
        {
            // Accepting stopped.
        }

        lock (_accepted)
        {
            foreach (var connection in _accepted)
            {
                connection.Dispose();
            }
        }

        _mainConnections.Dispose();
        _stop.Dispose();
    }
}
