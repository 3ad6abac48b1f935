using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Qmig.Postcopy.Destination;
using Qmig.Wire.Machines;
using Xunit;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// The link to the source breaking in postcopy, noticed in each way a destination can notice it: a
/// return-path send inside the package, a page request of a vCPU while the reader waits for bytes
/// that never come, and the preempt channel. Under recovery each must pause, not lose the guest.
/// The recorded QEMU 7.2 postcopy migrations are replayed over loopback; the break is made on the
/// destination's own socket (shutting it for sending), so what is noticed, and where, is the same
/// on every run.
/// </summary>
public sealed class LinkBreakTests
{
    private const string Recording = "data/pc-32m-postcopy/postcopy-forward.mig";
    private const string PreemptFolder = "data/pc-32m-postcopy-preempt";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ABreakNoticedByThePackagesPongPausesOnceThePackageIsRead()
    {
        var recording = File.ReadAllBytes(Recording);
        var pingInPackage = CommandOffset(Recording, "PING", value: 3);
        using var destination = new PostcopyDestination(new DestinationOptions { Recover = true });
        using var link = Link.Open();

        var receiving = Task.Run(() => destination.Receive(link.Destination));
        link.Source.Send(recording, 0, (int)pingInPackage, SocketFlags.None);
        WaitFor(() => destination.State == PostcopyMachine.State.Listening, "the destination to read LISTEN");

        // The return path breaks; the source goes on with the rest of the package and some pages
        // (all of them would let the destination complete without needing the source again).
        link.Destination.Shutdown(SocketShutdown.Send);
        link.SendInBackground(recording[..(int)(CommandOffset(Recording, "POSTCOPY_RUN") + (64 << 10))], pingInPackage);

        Assert.Equal(ReceiveOutcome.Paused, await Within(receiving, "Receive did not return"));
        Assert.Equal(MigrationStatusDestinationMachine.State.PostcopyPaused, destination.Status);
        // The whole package was read (its RUN too) before pausing: a resume has no package to resend.
        Assert.Equal(PostcopyMachine.State.Running, destination.State);
        Assert.Equal(DeviceSectionsIn(Recording), destination.Devices.Count);
    }

    [Fact]
    public async Task WithoutRecoveryTheSameBreakFailsAndSaysTheConnectionFailed()
    {
        var recording = File.ReadAllBytes(Recording);
        var pingInPackage = CommandOffset(Recording, "PING", value: 3);
        using var destination = new PostcopyDestination(new DestinationOptions());
        using var link = Link.Open();

        var receiving = Task.Run(() => destination.Receive(link.Destination));
        link.Source.Send(recording, 0, (int)pingInPackage, SocketFlags.None);
        WaitFor(() => destination.State == PostcopyMachine.State.Listening, "the destination to read LISTEN");
        link.Destination.Shutdown(SocketShutdown.Send);
        link.SendInBackground(recording[..(int)(CommandOffset(Recording, "POSTCOPY_RUN") + (64 << 10))], pingInPackage);

        var lost = await Assert.ThrowsAsync<DestinationException>(() => Within(receiving, "Receive did not fail"));
        Assert.Contains("the connection failed", lost.Message, StringComparison.Ordinal);
        Assert.Equal(MigrationStatusDestinationMachine.State.Failed, destination.Status);
    }

    /// <summary>
    /// The source has sent the package and then nothing more, its connection still open: only a
    /// vCPU's page request can notice the break, and the reader, waiting for bytes, must be woken.
    /// </summary>
    [Fact]
    public async Task ABreakNoticedByAPageRequestEndsTheReadAndPauses()
    {
        var recording = File.ReadAllBytes(Recording);
        var run = CommandOffset(Recording, "POSTCOPY_RUN");
        using var destination = new PostcopyDestination(new DestinationOptions { OnPostcopyRun = StandInGuest.OnPostcopyRun(TouchWorkload.Sequential), Recover = true });
        using var link = Link.Open();

        var receiving = Task.Run(() => destination.Receive(link.Destination));
        link.Source.Send(recording, 0, (int)run, SocketFlags.None);
        // The package's PONG 3 is out, so the next message is the vCPUs' first page request.
        link.WaitForPong(3);
        link.Destination.Shutdown(SocketShutdown.Send);
        link.Source.Send(recording, (int)run, 5, SocketFlags.None);

        // The vCPUs fault on the pages the recording discarded; their request meets the break.
        Assert.Equal(ReceiveOutcome.Paused, await Within(receiving, "Receive did not return: the break a page request noticed never reached the reader"));
        Assert.Equal(MigrationStatusDestinationMachine.State.PostcopyPaused, destination.Status);
    }

    /// <summary>
    /// The source's preempt channel closes while the main connection stays open and silent, as
    /// when only that connection is cut: the reader of the main channel must be woken to pause.
    /// </summary>
    [Fact]
    public async Task APreemptChannelThatBreaksWhileRunningPauses()
    {
        var main = File.ReadAllBytes(Path.Combine(PreemptFolder, "postcopy-forward.mig"));
        var preempt = File.ReadAllBytes(Path.Combine(PreemptFolder, "postcopy-preempt.mig"));
        var afterRun = CommandOffset(Path.Combine(PreemptFolder, "postcopy-forward.mig"), "POSTCOPY_RUN") + 5;
        using var destination = new PostcopyDestination(new DestinationOptions { Recover = true });
        using var link = Link.Open(withPreempt: true);
        destination.AttachPreemptChannel(link.PreemptDestination!);

        var receiving = Task.Run(() => destination.Receive(link.Destination));
        link.Source.Send(main, 0, (int)afterRun, SocketFlags.None);
        WaitFor(() => destination.State == PostcopyMachine.State.Running, "the destination to read RUN");

        // One whole page record, then the channel closes at a record boundary.
        var firstRecord = 8 + 1 + preempt[8] + 4096;
        link.PreemptSource!.Send(preempt, 0, firstRecord, SocketFlags.None);
        link.PreemptSource.Shutdown(SocketShutdown.Send);

        Assert.Equal(ReceiveOutcome.Paused, await Within(receiving, "Receive did not return: the preempt channel's break never reached the reader"));
        Assert.Equal(MigrationStatusDestinationMachine.State.PostcopyPaused, destination.Status);
    }

    private static async Task<T> Within<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Limit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{what} within {Limit.TotalSeconds} s");
        }
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Limit, $"timed out waiting for {what}");
            Thread.Sleep(5);
        }
    }

    /// <summary>Where the recording's command is, by qmig's own reader (dump --format jsonl).</summary>
    private static long CommandOffset(string stream, string command, long? value = null)
    {
        foreach (var record in DumpRecords(stream))
        {
            if (record.TryGetProperty("cmd", out var cmd) && cmd.GetString() == command
                && (value is null || (record.TryGetProperty("value", out var v) && v.GetInt64() == value)))
            {
                return record.GetProperty("offset").GetInt64();
            }
        }

        throw new InvalidOperationException($"{stream} has no {command} {value}");
    }

    private static int DeviceSectionsIn(string stream) =>
        DumpRecords(stream).Count(record => record.GetProperty("type").GetString() == "SECTION_FULL");

    private static IEnumerable<JsonElement> DumpRecords(string stream)
    {
        var (exit, output, error) = QmigProcess.Run("dump", "--format", "jsonl", stream);
        Assert.True(exit == 0, $"dump {stream}: {exit} {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement);
    }

    /// <summary>A loopback connection (and optionally a second one for the preempt channel), source and destination ends.</summary>
    private sealed class Link : IDisposable
    {
        private Link(Socket source, Socket destination, Socket? preemptSource, Socket? preemptDestination)
        {
            Source = source;
            Destination = destination;
            PreemptSource = preemptSource;
            PreemptDestination = preemptDestination;
        }

        public Socket Source { get; }

        public Socket Destination { get; }

        public Socket? PreemptSource { get; }

        public Socket? PreemptDestination { get; }

        /// <summary>Sends the stream from <paramref name="from"/> on, without waiting: a destination that pauses stops reading.</summary>
        public void SendInBackground(byte[] stream, long from) =>
            Task.Run(() =>
            {
                try
                {
                    Source.Send(stream, (int)from, stream.Length - (int)from, SocketFlags.None);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // The test ended and closed the connection under the send.
                }
            });

        /// <summary>Reads the return path until the PONG carrying <paramref name="value"/> (be16 type 2, be16 length 4, be32 value).</summary>
        public void WaitForPong(uint value)
        {
            Source.ReceiveTimeout = (int)Limit.TotalMilliseconds;
            var message = new byte[8];
            while (true)
            {
                for (var got = 0; got < 4;)
                {
                    got += Receive(message.AsSpan(got, 4 - got));
                }

                var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(2));
                var payload = new byte[length];
                for (var got = 0; got < length;)
                {
                    got += Receive(payload.AsSpan(got));
                }

                if (message[1] == 2 && length == 4 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(payload) == value)
                {
                    return;
                }
            }
        }

        private int Receive(Span<byte> into)
        {
            var n = Source.Receive(into);
            Assert.True(n > 0, "the return path ended before the PONG");
            return n;
        }

        public static Link Open(bool withPreempt = false)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var source = Connect(listener.LocalEndpoint);
            var destination = listener.AcceptSocket();
            Socket? preemptSource = null;
            Socket? preemptDestination = null;
            if (withPreempt)
            {
                preemptSource = Connect(listener.LocalEndpoint);
                preemptDestination = listener.AcceptSocket();
            }

            return new Link(source, destination, preemptSource, preemptDestination);
        }

        private static Socket Connect(EndPoint endpoint)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(endpoint);
            return socket;
        }

        public void Dispose()
        {
            Source.Dispose();
            Destination.Dispose();
            PreemptSource?.Dispose();
            PreemptDestination?.Dispose();
        }
    }
}
