using System.Collections.Concurrent;
using System.Net.Sockets;
using Qmig.Postcopy.Destination;
using Qmig.Postcopy.Tls;
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
    private readonly IncomingSecurity _security;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<Socket> _mainConnections = new();
    private readonly List<Socket> _accepted = [];
    private readonly Task _accepting;

    private PreemptChannelAcceptor(TcpListener listener, PostcopyDestination destination, IncomingSecurity security)
    {
        _listener = listener;
        _destination = destination;
        _security = security;
        _accepting = Task.Run(async () =>
        {
            while (true)
            {
                var connection = await listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
                lock (_accepted)
                {
                    _accepted.Add(connection);
                }

                connection.NoDelay = true;
                _ = Task.Run(() => Classify(connection));
            }
        });
    }

    public static PreemptChannelAcceptor Start(TcpListener listener, PostcopyDestination destination, IncomingSecurity security) => new(listener, destination, security);

    /// <summary>Waits for the source's resumed main connection.</summary>
    public Socket NextMainConnection() => _mainConnections.Take(_stop.Token);

    private void Classify(Socket accepted)
    {
        var remote = accepted.RemoteEndPoint;
        try
        {
            var connection = _security.Secure(accepted);
            if (!ReferenceEquals(connection, accepted))
            {
                lock (_accepted)
                {
                    _accepted.Add(connection);
                }
            }

            switch (IncomingConnection.Classify(connection, Timeout.InfiniteTimeSpan))
            {
                case IncomingConnectionKind.ResumedMainChannel:
                    _mainConnections.Add(connection);
                    break;
                case IncomingConnectionKind.PreemptChannel:
                    _destination.AttachPreemptChannel(connection);
                    break;
                case IncomingConnectionKind.Unexpected:
                    Console.Error.WriteLine($"qmig: closed a connection from {remote} that is neither a preempt channel nor a resumed migration; the migration goes on");
                    connection.Dispose();
                    break;
                case IncomingConnectionKind.Closed:
                    break;
            }
        }
        catch (MigrationTlsException e)
        {
            Console.Error.WriteLine($"qmig: closed a connection from {remote}: {e.Message}; the migration goes on");
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Closed while waiting because the migration ended is not worth a word; anything else is.
            if (!_stop.IsCancellationRequested)
            {
                Console.Error.WriteLine($"qmig: a connection from {remote} failed before it could be used: {e.Message}");
            }
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
