using Qmig.TestSupport;
using System.Net;
using System.Net.Sockets;
using Qmig.Postcopy.Destination;
using Xunit;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// <see cref="PostcopyDestination"/> fed a recorded postcopy migration (tests/data/pc-32m-postcopy,
/// what a QEMU 7.2 source sent to a QEMU 7.2 destination) over loopback TCP: no QEMU needed, so
/// every detail is the same on every run. The replay ignores our page requests; the recording holds
/// every page anyway.
/// </summary>
public sealed class ReplayedSourceTests : IDisposable
{
    private const string Recording = "data/pc-32m-postcopy/postcopy-forward.mig";

    private readonly string _work = Directory.CreateTempSubdirectory("qmig-replay-").FullName;

    [Fact]
    public void TheRecordedMigrationGivesTheSameRamAsReadingTheRecording()
    {
        var recording = File.ReadAllBytes(Recording);
        var (returnPath, error) = Replay(recording, TouchWorkload.Sequential, out var destination, out var outMig);
        using (destination)
        {
            Assert.Null(error);
            Assert.Equal(PostcopyMachineEnd, destination.State.ToString());
            Assert.Equal(Qmig.Wire.Machines.MigrationStatusDestinationMachine.State.Completed, destination.Status);
            Assert.Equal(4, destination.Stats.Pongs);
            Assert.Equal(128, destination.Stats.Discarded);
        }

        // The return path: a PONG per PING, page requests from our touch threads, SHUT 0 last.
        var rpFile = Path.Combine(_work, "rp.bin");
        File.WriteAllBytes(rpFile, returnPath);
        var (_, dump, _) = QmigProcess.Run("dump", "--return-path", rpFile);
        Assert.Equal(4, dump.Split('\n').Count(line => line.Contains("PONG", StringComparison.Ordinal)));
        Assert.EndsWith("SHUT len=4 status=0", dump.TrimEnd());

        // Every RAM block as OUT.mig holds it equals the block as qmig extract reads the recording.
        var fromRecording = Extract(Recording, "recording");
        var fromOut = Extract(outMig!, "out");
        var blocks = Directory.GetFiles(fromRecording).Select(Path.GetFileName).Order().ToArray();
        Assert.NotEmpty(blocks);
        Assert.Equal(blocks, Directory.GetFiles(fromOut).Select(Path.GetFileName).Order().ToArray());
        foreach (var block in blocks)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(fromRecording, block!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(fromOut, block!))), $"RAM block {block} differs");
        }
    }

    /// <summary>
    /// A QEMU 10.x source that resumes a paused postcopy opens a new preempt channel, and the
    /// migration can complete on the main channel before that connection is accepted: it must be
    /// closed, not read (a race here once crashed receive with "Thread has not been started").
    /// </summary>
    [Fact]
    public void APreemptChannelArrivingAfterTheMigrationEndedIsClosed()
    {
        var recording = File.ReadAllBytes(Recording);
        var (_, error) = Replay(recording, TouchWorkload.None, out var destination, out _);
        using (destination)
        {
            Assert.Null(error);
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            using var lateSource = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            lateSource.Connect(listener.LocalEndpoint);
            destination.AttachPreemptChannel(listener.AcceptSocket());

            lateSource.ReceiveTimeout = 10_000;
            Assert.Equal(0, lateSource.Receive(new byte[1]));
        }
    }

    /// <summary>
    /// The recorded QEMU 7.2 postcopy-preempt migration (tests/data/pc-32m-postcopy-preempt): the main
    /// channel and the preempt channel replayed on two connections. Every page the preempt channel
    /// carried is placed from it, and OUT.mig holds exactly those bytes there.
    /// </summary>
    [Fact]
    public void TheRecordedPreemptMigrationTakesPagesFromBothChannels()
    {
        const string folder = "data/pc-32m-postcopy-preempt";
        var main = File.ReadAllBytes(Path.Combine(folder, "postcopy-forward.mig"));
        var preempt = File.ReadAllBytes(Path.Combine(folder, "postcopy-preempt.mig"));
        var destination = new PostcopyDestination(new DestinationOptions { OnPostcopyRun = StandInGuest.OnPostcopyRun(TouchWorkload.Sequential) });
        using (destination)
        {
            var (returnPath, error) = ReplayingSource.Play(destination, main, preempt);
            Assert.Null(error);
            Assert.Equal(PostcopyMachineEnd, destination.State.ToString());
            Assert.True(returnPath.AsSpan().EndsWith(new byte[] { 0, 1, 0, 4, 0, 0, 0, 0 }), "the return path does not end with SHUT 0");

            // Each PAGE record of the capture: a 4111-byte record names its block, a 4104-byte one continues.
            var pages = new List<(ulong Offset, byte[] Data)>();
            for (var at = 0; at + 8 <= preempt.Length;)
            {
                var word = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(preempt.AsSpan(at));
                if ((word & 0x10) != 0)
                {
                    break; // EOS
                }

                var header = (word & 0x20) != 0 ? 8 : 8 + 1 + preempt[at + 8];
                pages.Add((word & ~0xfffUL, preempt.AsSpan(at + header, 4096).ToArray()));
                at += header + 4096;
            }

            Assert.Equal(pages.Count, destination.Stats.PreemptChannelPages);
            var ram = destination.Blocks.Single(block => block.Name == "pc.ram");
            var placed = new byte[4096];
            foreach (var (offset, data) in pages)
            {
                ram.ReadUnregistered(offset, placed);
                Assert.True(data.AsSpan().SequenceEqual(placed), $"pc.ram page 0x{offset:x} is not the preempt channel's copy");
            }
        }
    }

    [Fact]
    public void AHugePageBlockOfPartHugePagesIsRefusedBeforeAnyMemoryIsMade()
    {
        var stream = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new Qmig.Wire.Writing.MigrationStreamWriter(stream);
        writer.FileHeader();
        writer.Configuration("pc-i440fx-7.2");
        writer.Command(Qmig.Wire.MigCmd.OpenReturnPath);
        writer.PostcopyAdvise((2UL << 20) | 4096, 4096);
        writer.SectionStart(2, "ram", 0, 4);
        // 3 MiB of 2 MiB pages: QEMU never sizes a hugetlbfs block so.
        Qmig.Wire.RamRecord.Write(stream, 4096, (3UL << 20) | (ulong)Qmig.Wire.RamSaveFlag.MemSize, default, 0, default, 1, default, default);
        Qmig.Wire.RamBlockEntry.Write(stream, true, false, "pc.ram"u8, 3UL << 20, 2UL << 20, 0);
        writer.RamEos();
        writer.Footer(2);
        writer.EndOfSections();

        var (_, error, destination) = ReplayCut(stream.WrittenSpan.ToArray());
        using (destination)
        {
            var refused = Assert.IsType<DestinationException>(error);
            Assert.Contains("not a whole number of its 2097152-byte pages", refused.Message, StringComparison.Ordinal);
            Assert.Empty(destination.Blocks);
        }
    }

    [Fact]
    public void ASourceThatVanishesDuringPostcopyLosesTheGuestAndSaysSo()
    {
        var recording = File.ReadAllBytes(Recording);
        // Cut 64 KiB before the end: inside the postcopy pages, after POSTCOPY_RUN.
        var (_, error, destination) = ReplayCut(recording.AsSpan(0, recording.Length - 65536).ToArray());
        using (destination)
        {
            var lost = Assert.IsType<DestinationException>(error);
            Assert.Equal(Qmig.Wire.Machines.MigrationStatusDestinationMachine.State.Failed, destination.Status);
            Assert.Contains("POSTCOPY_INCOMING_RUNNING", lost.Message, StringComparison.Ordinal);
            Assert.Contains("the guest is lost", lost.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidOperationException>(() => destination.WritePrecopyStream(Stream.Null));
        }
    }

    private const string PostcopyMachineEnd = "End";

    private (byte[] ReturnPath, Exception? Error) Replay(byte[] stream, TouchWorkload touch, out PostcopyDestination destination, out string? outMig)
    {
        destination = new PostcopyDestination(new DestinationOptions { OnPostcopyRun = StandInGuest.OnPostcopyRun(touch) });
        var (returnPath, error) = ReplayingSource.Play(destination, stream);
        outMig = null;
        if (error is null)
        {
            outMig = Path.Combine(_work, "out.mig");
            using var file = File.Create(outMig);
            destination.WritePrecopyStream(file);
        }

        return (returnPath, error);
    }

    private (byte[] ReturnPath, Exception? Error, PostcopyDestination Destination) ReplayCut(byte[] stream)
    {
        var destination = new PostcopyDestination(new DestinationOptions { OnPostcopyRun = StandInGuest.OnPostcopyRun(TouchWorkload.Random) });
        var (returnPath, error) = ReplayingSource.Play(destination, stream);
        return (returnPath, error, destination);
    }

    private string Extract(string stream, string name)
    {
        var directory = Path.Combine(_work, name);
        var (exit, _, error) = QmigProcess.Run("extract", stream, "-o", directory);
        // Neither stream has a vmdesc: the RAM images are written and the exit code says state.json is missing.
        Assert.True(exit == 2, $"extract {stream}: {exit} {error}");
        return Path.Combine(directory, "ram");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
