using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Qmig.Postcopy.Destination;
using Qmig.Wire.Machines;
using Xunit;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// What a hostile or broken peer cannot push a destination past: more guest RAM than allowed, a
/// connection that stalls before postcopy, and connections that are not the source's. The recorded
/// QEMU 7.2 postcopy migrations are replayed over loopback, so no QEMU is needed.
/// </summary>
public sealed class DestinationBoundsTests
{
    private const string Recording = "data/pc-32m-postcopy/postcopy-forward.mig";
    private const string PreemptFolder = "data/pc-32m-postcopy-preempt";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MoreGuestRamThanAllowedFailsBeforeAnyBlockIsMapped()
    {
        using var destination = new PostcopyDestination(new DestinationOptions { MaxGuestRam = 16 << 20 });
        using var link = Connect();
        var receiving = Task.Run(() => destination.Receive(link.Destination));
        // In the background: a destination that refuses stops reading.
        _ = Task.Run(() => SendQuietly(link.Source, File.ReadAllBytes(Recording)));

        var refused = await Assert.ThrowsAsync<DestinationException>(() => receiving.WaitAsync(Limit));
        Assert.Contains("more than the 16 MiB allowed (--max-guest-ram)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("the source still holds the whole guest", refused.Message, StringComparison.Ordinal);
        Assert.Empty(destination.Blocks);
        Assert.Equal(MigrationStatusDestinationMachine.State.Failed, destination.Status);
    }

    [Fact]
    public void TheDefaultGuestRamLimitIsThisMachinesMemory()
    {
        var memTotalKb = File.ReadLines("/proc/meminfo").First(line => line.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var physical = long.Parse(memTotalKb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        Assert.InRange(DestinationOptions.DefaultMaxGuestRam, 1L << 30, physical);
    }

    [Fact]
    public async Task ASourceThatStallsBeforePostcopyIsGivenUp()
    {
        using var destination = new PostcopyDestination(new DestinationOptions { StallTimeout = TimeSpan.FromSeconds(1) });
        using var link = Connect();
        var clock = Stopwatch.StartNew();
        var receiving = Task.Run(() => destination.Receive(link.Destination));
        // The header and the configuration, then nothing.
        link.Source.Send(File.ReadAllBytes(Recording).AsSpan(0, 4096));

        var stalled = await Assert.ThrowsAsync<DestinationException>(() => receiving.WaitAsync(Limit));
        Assert.Contains("sent nothing for 1 s (stall timeout)", stalled.Message, StringComparison.Ordinal);
        Assert.Contains("the source still holds the whole guest", stalled.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the stall was noticed after {clock.Elapsed}");
    }

    /// <summary>After LISTEN the guest lives on both sides: a silent source is waited for, as QEMU does.</summary>
    [Fact]
    public async Task AfterListenASilentSourceIsWaitedFor()
    {
        var recording = File.ReadAllBytes(Recording);
        var run = recording.AsSpan().IndexOf(new byte[] { 0x08, 0x00, 0x05, 0x00, 0x00 });
        Assert.True(run > 0, "no POSTCOPY_RUN in the recording");
        using var destination = new PostcopyDestination(new DestinationOptions { StallTimeout = TimeSpan.FromSeconds(1) });
        using var link = Connect();
        var receiving = Task.Run(() => destination.Receive(link.Destination));
        link.Source.Send(recording.AsSpan(0, run + 5));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(receiving.IsCompleted, $"Receive ended while the source was silent after RUN: {receiving.Exception?.InnerException?.Message}");
        Send(link.Source, recording.AsSpan(run + 5).ToArray());

        Assert.Equal(ReceiveOutcome.Completed, await receiving.WaitAsync(Limit));
    }

    /// <summary>A second preempt channel while the source's is read is closed, and the migration completes from the real one.</summary>
    [Fact]
    public async Task AnUnexpectedSecondPreemptChannelIsClosedAndTheMigrationCompletes()
    {
        var main = File.ReadAllBytes(Path.Combine(PreemptFolder, "postcopy-forward.mig"));
        var preempt = File.ReadAllBytes(Path.Combine(PreemptFolder, "postcopy-preempt.mig"));
        using var destination = new PostcopyDestination(new DestinationOptions { Recover = true });
        using var link = Connect();
        using var preemptLink = Connect();
        using var strayLink = Connect();
        destination.AttachPreemptChannel(preemptLink.Destination);
        destination.AttachPreemptChannel(strayLink.Destination);

        strayLink.Source.ReceiveTimeout = (int)Limit.TotalMilliseconds;
        Assert.Equal(0, strayLink.Source.Receive(new byte[1]));

        var receiving = Task.Run(() => destination.Receive(link.Destination));
        var sendingPreempt = Task.Run(() => Send(preemptLink.Source, preempt));
        Send(link.Source, main);
        Assert.Equal(ReceiveOutcome.Completed, await receiving.WaitAsync(Limit));
        Assert.True(destination.Stats.PreemptChannelPages > 0, "no page came on the source's preempt channel");
        await sendingPreempt.WaitAsync(Limit);
    }

    [Fact]
    public void IncomingConnectionsAreToldApartByTheirFirstBytes()
    {
        var preempt = File.ReadAllBytes(Path.Combine(PreemptFolder, "postcopy-preempt.mig"));
        Assert.Equal(IncomingConnectionKind.ResumedMainChannel, ClassifyAfterSending([0x08, 0x00, 0x0a, 0x00, 0x07]));
        Assert.Equal(IncomingConnectionKind.PreemptChannel, ClassifyAfterSending(preempt.AsSpan(0, 64).ToArray()));
        // A preempt channel that carried no page: only the EOS that ends it.
        Assert.Equal(IncomingConnectionKind.PreemptChannel, ClassifyAfterSending([0, 0, 0, 0, 0, 0, 0, 0x10]));
        Assert.Equal(IncomingConnectionKind.Unexpected, ClassifyAfterSending(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n")));
        // A command other than RECV_BITMAP, and a CONTINUE record that names no block, are not the source's.
        Assert.Equal(IncomingConnectionKind.Unexpected, ClassifyAfterSending([0x08, 0x00, 0x02, 0x00, 0x04]));
        Assert.Equal(IncomingConnectionKind.Unexpected, ClassifyAfterSending([0, 0, 0, 0, 0, 0, 0x10, 0x28, 0]));
        Assert.Equal(IncomingConnectionKind.Closed, ClassifyAfterSending([]));
    }

    private static IncomingConnectionKind ClassifyAfterSending(byte[] bytes)
    {
        using var link = Connect();
        link.Source.Send(bytes);
        link.Source.Shutdown(SocketShutdown.Send);
        return IncomingConnection.Classify(link.Destination, TimeSpan.FromSeconds(5));
    }

    private static void SendQuietly(Socket socket, byte[] bytes)
    {
        try
        {
            Send(socket, bytes);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The destination hung up, or the test ended.
        }
    }

    private static void Send(Socket socket, byte[] bytes)
    {
        socket.Send(bytes);
        socket.Shutdown(SocketShutdown.Send);
    }

    private static Pair Connect()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var source = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        source.Connect(listener.LocalEndpoint);
        return new Pair(source, listener.AcceptSocket());
    }

    private sealed record Pair(Socket Source, Socket Destination) : IDisposable
    {
        public void Dispose()
        {
            Source.Dispose();
            Destination.Dispose();
        }
    }
}
