using System.Net;
using System.Net.Sockets;
using Qmig.Postcopy.Destination;
using Xunit;

namespace Qmig.Postcopy.Tests.Destination;

/// <summary>A peer that sends part of a prefix and then nothing must not hold the classifying thread for ever.</summary>
public sealed class IncomingConnectionTests
{
    [Theory]
    [InlineData(new byte[] { 0x08 }, false)]
    [InlineData(new byte[] { 0x08, 0x00 }, true)]
    [InlineData(new byte[] { 0x00, 0x00, 0x00 }, false)]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02 }, true)]
    public async Task APartialPrefixFollowedBySilenceOrCloseIsUnexpectedWithinSeconds(byte[] prefix, bool close)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        peer.Send(prefix);
        if (close)
        {
            peer.Shutdown(SocketShutdown.Send);
        }

        // Without a limit of its own the classification would wait for ever: WaitAsync turns that into a failure.
        var kind = await Task.Run(() => IncomingConnection.Classify(accepted, Timeout.InfiniteTimeSpan)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(IncomingConnectionKind.Unexpected, kind);
    }
}
