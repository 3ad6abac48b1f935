using System.Net.Sockets;
using Qmig.Postcopy.Destination;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>receive --postcopy-preempt</c>: accepts the source's second connection in the background and
/// hands it to the destination as the preempt channel. QEMU's destination, too, takes the first
/// connection as the main channel and the next as the preempt channel. Disposing stops accepting
/// and closes the channel.
/// </summary>
internal sealed class PreemptChannelAcceptor : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private Socket? _channel;

    private PreemptChannelAcceptor(TcpListener listener, PostcopyDestination destination)
    {
        _listener = listener;
        _accepting = Task.Run(async () =>
        {
            var channel = await listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            _channel = channel;
            destination.AttachPreemptChannel(channel);
        });
    }

    public static PreemptChannelAcceptor Start(TcpListener listener, PostcopyDestination destination) => new(listener, destination);

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
            // No preempt channel came (or it came too late): nothing to close.
        }

        _channel?.Dispose();
        _stop.Dispose();
    }
}
