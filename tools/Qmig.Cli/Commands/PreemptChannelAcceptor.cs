using System.Collections.Concurrent;
using System.Net.Sockets;
using Qmig.Postcopy.Destination;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>receive --postcopy-preempt</c>: accepts the source's further connections in the background.
/// As QEMU's destination does, it goes by order: the connection after the main one is the preempt
/// channel. With <c>--recover</c> it keeps accepting: while the migration is paused the next
/// connection is the resumed main channel (handed to <see cref="NextMainConnection"/>) and the one
/// after it the new preempt channel. Disposing stops accepting and closes the preempt channels.
/// </summary>
internal sealed class PreemptChannelAcceptor : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<Socket> _mainConnections = new();
    private readonly List<Socket> _channels = [];
    private readonly Task _accepting;
    private int _mainWanted;

    private PreemptChannelAcceptor(TcpListener listener, PostcopyDestination destination, bool keepAccepting)
    {
        _listener = listener;
        _accepting = Task.Run(async () =>
        {
            do
            {
                var connection = await listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
                if (Interlocked.CompareExchange(ref _mainWanted, 0, 1) == 1)
                {
                    _mainConnections.Add(connection);
                    continue;
                }

                lock (_channels)
                {
                    _channels.Add(connection);
                }

                destination.AttachPreemptChannel(connection);
            }
            while (keepAccepting);
        });
    }

    public static PreemptChannelAcceptor Start(TcpListener listener, PostcopyDestination destination, bool keepAccepting) => new(listener, destination, keepAccepting);

    /// <summary>Waits for the source's resumed main connection (the next one it opens).</summary>
    public Socket NextMainConnection()
    {
        Volatile.Write(ref _mainWanted, 1);
        return _mainConnections.Take(_stop.Token);
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
            // No (further) connection came: nothing to close but what was accepted.
        }

        lock (_channels)
        {
            foreach (var channel in _channels)
            {
                channel.Dispose();
            }
        }

        _mainConnections.Dispose();
        _stop.Dispose();
    }
}
