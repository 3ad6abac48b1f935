using System.Net.Sockets;

namespace Qmig.Postcopy.Proxy;

/// <summary>One connection accepted from the source and the proxy's own connection to the destination for it.</summary>
internal sealed class ProxyConnection(Socket source, Socket destination) : IDisposable
{
    private long _forwardBytes;
    private long _returnBytes;
    private int _open = 1;
    private string _phase = "accepted";

    public Socket Source { get; } = source;

    public Socket Destination { get; } = destination;

    public ProxyChannel Channel { get; set; } = ProxyChannel.Other;

    public int Generation { get; set; }

    /// <summary>What the connection's thread is doing, for a message when it does not stop.</summary>
    public string Phase { get => Volatile.Read(ref _phase); set => Volatile.Write(ref _phase, value); }

    public Thread? Thread { get; set; }

    public long ForwardBytes => Interlocked.Read(ref _forwardBytes);

    public long ReturnBytes => Interlocked.Read(ref _returnBytes);

    public void Add(bool forward, int count)
    {
        if (forward)
        {
            Interlocked.Add(ref _forwardBytes, count);
        }
        else
        {
            Interlocked.Add(ref _returnBytes, count);
        }
    }

    public ProxyConnectionFigures Figures() => new(Channel, Generation, ForwardBytes, ReturnBytes, Volatile.Read(ref _open) == 1);

    /// <summary>Stops both directions: a pump blocked on either socket returns.</summary>
    public void Abort()
    {
        Shutdown(Source);
        Shutdown(Destination);
    }

    public void Dispose()
    {
        Volatile.Write(ref _open, 0);
        Source.Dispose();
        Destination.Dispose();
    }

    private static void Shutdown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }
}

/// <summary>How one direction of a connection stopped: which side closed or failed, and when.</summary>
/// <param name="ClosedBy">The side whose socket ended the direction.</param>
/// <param name="Failure">The socket error, or null for an orderly close.</param>
/// <param name="Timestamp">When (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</param>
internal sealed record PumpEnd(ProxySide ClosedBy, string? Failure, long Timestamp)
{
    public string How => Failure is null ? "closed" : $"failed ({Failure}) on";
}
