using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Qmig.Linux.Tests;

/// <summary>
/// recv with a poll wait on a real TCP connection over loopback: it returns what has arrived, waits for
/// bytes that have not, reports the peer's close as 0, ends its wait on cancellation, and leaves the
/// socket as it found it (blocking), so .NET never takes it into its event loop.
/// </summary>
public sealed class PolledReceiveTests : IDisposable
{
    private readonly Socket _sender;
    private readonly Socket _receiver;

    public PolledReceiveTests()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _sender.Connect(listener.LocalEndPoint!);
        _receiver = listener.Accept();
    }

    [Fact]
    public async Task BytesSentLaterArriveInOrder()
    {
        var expected = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        var sender = Task.Run(async () =>
        {
            for (var at = 0; at < expected.Length; at += 9_999)
            {
                await Task.Delay(2);
                _sender.Send(expected, at, Math.Min(9_999, expected.Length - at), SocketFlags.None);
            }
        });

        var received = new byte[expected.Length];
        var total = 0;
        while (total < expected.Length)
        {
            var read = PolledReceive.Receive(_receiver, received.AsSpan(total), CancellationToken.None);
            Assert.True(read > 0, $"the receive ended after {total} bytes");
            total += read;
        }

        await sender;
        Assert.Equal(expected, received);
        Assert.True(_receiver.Blocking, "the receive changed the socket to non-blocking");
    }

    [Fact]
    public void ThePeersCloseReadsAsZero()
    {
        _sender.Send([1, 2, 3]);
        _sender.Shutdown(SocketShutdown.Send);
        var buffer = new byte[16];

        Assert.Equal(3, PolledReceive.Receive(_receiver, buffer, CancellationToken.None));
        Assert.Equal(0, PolledReceive.Receive(_receiver, buffer, CancellationToken.None));
    }

    [Fact]
    public async Task CancellationEndsTheWait()
    {
        using var cancel = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var receive = Task.Run(() => PolledReceive.Receive(_receiver, new byte[16], cancel.Token));
        await Task.Delay(150);
        Assert.False(receive.IsCompleted, "the receive returned with nothing sent");

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"cancellation took {clock.Elapsed}");
    }

    [Fact]
    public void AResetConnectionIsAnError()
    {
        _sender.LingerState = new LingerOption(true, 0);
        _sender.Close();

        var error = Assert.Throws<SocketException>(() =>
        {
            while (PolledReceive.Receive(_receiver, new byte[16], CancellationToken.None) > 0)
            {
            }

            // A reset that arrives after an orderly end still shows on the next read.
            PolledReceive.Receive(_receiver, new byte[16], CancellationToken.None);
        });
        Assert.Contains("ECONNRESET", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }
}
