using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Qmig.Linux.Tests;

/// <summary>
/// sendmsg of scattered pieces on a real TCP connection over loopback: every byte arrives in order through
/// short sends and full socket buffers, a peer that stops reading times the send out, cancellation ends the
/// wait, and a closed peer is an error rather than SIGPIPE.
/// </summary>
public sealed class GatheredSendTests : IDisposable
{
    private readonly Socket _sender;
    private readonly Socket _receiver;
    private readonly List<nint> _allocations = [];

    public GatheredSendTests()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = 16 << 10 };
        _sender.Connect(listener.LocalEndPoint!);
        _receiver = listener.Accept();
        _receiver.ReceiveBufferSize = 16 << 10;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(300, 4096)]
    [InlineData(3000, 77)]
    public async Task EveryPieceArrivesInOrderThroughFullBuffers(int pieces, int pieceBytes)
    {
        var (segments, expected) = Pieces(pieces, pieceBytes);

        var received = Task.Run(() => ReceiveExactly(expected.Length));
        var sent = GatheredSend.SendAll(_sender, segments, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal(expected.Length, sent);
        Assert.Equal(expected, await received.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Pieces of random bytes: headers of 0 to 19 bytes between pieces of <paramref name="pieceBytes"/>, as page records go.</summary>
    private unsafe (GatherSegment[] Segments, byte[] Expected) Pieces(int pieces, int pieceBytes)
    {
        var random = new Random(pieces);
        var expected = new List<byte>();
        var segments = new GatherSegment[pieces * 2];
        for (var i = 0; i < segments.Length; i++)
        {
            var length = i % 2 == 0 ? random.Next(0, 20) : pieceBytes;
            var memory = Allocate(length);
            var bytes = new Span<byte>((void*)memory, length);
            random.NextBytes(bytes);
            expected.AddRange(bytes.ToArray());
            segments[i] = new GatherSegment(memory, (nuint)length);
        }

        return (segments, expected.ToArray());
    }

    [Fact]
    public void APeerThatStopsReadingTimesTheSendOut()
    {
        var piece = Allocate(8 << 20);
        var segments = new[] { new GatherSegment(piece, 8 << 20) };

        var error = Assert.Throws<TimeoutException>(() => GatheredSend.SendAll(_sender, segments, TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.Contains("within 0.3 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CancellationEndsAWaitingSend()
    {
        var piece = Allocate(8 << 20);
        var segments = new[] { new GatherSegment(piece, 8 << 20) };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        Assert.ThrowsAny<OperationCanceledException>(() => GatheredSend.SendAll(_sender, segments, Timeout.InfiniteTimeSpan, cancel.Token));
    }

    [Fact]
    public void AClosedPeerIsASocketErrorNotASignal()
    {
        _receiver.Close();
        var piece = Allocate(1 << 20);
        var segments = new[] { new GatherSegment(piece, 1 << 20) };

        var error = Assert.Throws<SocketException>(() =>
        {
            // The first send may still be taken by the kernel; the peer's reset fails a later one.
            for (var i = 0; i < 100; i++)
            {
                GatheredSend.SendAll(_sender, segments.ToArray(), TimeSpan.FromSeconds(5), CancellationToken.None);
                Thread.Sleep(10);
            }
        });
        Assert.Matches("EPIPE|ECONNRESET", error.Message);
    }

    private byte[] ReceiveExactly(int count)
    {
        var buffer = new byte[count];
        var at = 0;
        while (at < count)
        {
            var read = _receiver.Receive(buffer, at, count - at, SocketFlags.None);
            if (read == 0)
            {
                throw new IOException($"the connection ended after {at} of {count} bytes");
            }

            at += read;
        }

        return buffer;
    }

    private unsafe nint Allocate(int bytes)
    {
        var memory = (nint)NativeMemory.AllocZeroed((nuint)Math.Max(bytes, 1));
        _allocations.Add(memory);
        return memory;
    }

    public unsafe void Dispose()
    {
        _sender.Dispose();
        _receiver.Dispose();
        foreach (var memory in _allocations)
        {
            NativeMemory.Free((void*)memory);
        }
    }
}
