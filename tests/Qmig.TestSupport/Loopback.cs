using System.Net;
using System.Net.Sockets;

namespace Qmig.TestSupport;

/// <summary>Loopback addresses for tests that start a listener of their own or tell QEMU where to listen.</summary>
public static class Loopback
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>
    /// A connected TCP pair on 127.0.0.1: the client side and the accepted side. With
    /// <paramref name="bufferBytes"/>, the client's send buffer and the accepted side's receive buffer
    /// are that small, so a peer that stops reading fills them soon.
    /// </summary>
    public static async Task<ConnectedPair> ConnectedPairAsync(int? bufferBytes = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        if (bufferBytes is { } listenerBytes)
        {
            listener.Server.ReceiveBufferSize = listenerBytes;
        }

        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (bufferBytes is { } clientBytes)
        {
            client.SendBufferSize = clientBytes;
        }

        try
        {
            var accept = listener.AcceptSocketAsync();
            await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
            return new ConnectedPair(client, await accept);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}

/// <summary>Both ends of a loopback connection; disposing closes both.</summary>
public sealed record ConnectedPair(Socket Client, Socket Accepted) : IDisposable
{
    public void Dispose()
    {
        Client.Dispose();
        Accepted.Dispose();
    }
}
