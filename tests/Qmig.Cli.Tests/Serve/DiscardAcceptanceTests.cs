using System.Buffers.Binary;
using System.Net.Sockets;
using Qmig.Cli.Tests.Receive;
using Qmig.Postcopy.Bitmaps;
using Qmig.Postcopy.Source;
using Qmig.Wire;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Serve;

/// <summary>
/// The discard rule against a real destination, through the library: a guest whose pc.ram a thread keeps
/// writing during precopy (its writes tracked by its own bitmap), switched to postcopy into a QEMU paused
/// with -S. The discards on the wire, read back with our reader, are exactly the pages sent and written
/// since plus the pages never sent (precopy is cut short, so there are some); the destination ends with
/// the guest's final RAM.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class DiscardAcceptanceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-discard-").FullName;

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public async Task TheDiscardsAreExactlyThePagesSentAndWrittenSinceAndTheRamIsTheGuests(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var saved = SaveDirtyGuest(qemu);
        using var baseGuest = SavedStreamGuest.Open(saved);
        using var guest = new WrittenGuest(baseGuest);
        using var destination = WaitingDestination(qemu, out var path);
        using var socket = await ConnectAsync(path);
        await using var wire = new TeeStream(new NetworkStream(socket, ownsSocket: false));
        var source = new PostcopySource(guest, new PostcopySourceOptions { PrecopyDuration = TimeSpan.FromSeconds(2), MaxPrecopyRounds = 1000, MaxBandwidth = 4 << 20 });
        PostcopySourceStats stats;
        try
        {
            stats = await source.MigrateAsync(wire).WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (PostcopySourceException e)
        {
            throw new InvalidOperationException($"{e.Message}; the destination said: {destination.KillAndReadErrors()}; {ResendsAfterListen(wire.Captured)}", e);
        }

        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));
        output.WriteLine($"precopy pages {stats.PrecopyPages}, discards {stats.Discards}, writes {guest.Writes}");

        var (sentBeforeDiscard, discarded) = ReadPrecopyAndDiscards(wire.Captured);
        var stale = guest.StaleAtStop!;
        Assert.True(stale.Count > 0, "no page was written after it was sent: the test did not exercise the discard rule");
        Assert.Subset(sentBeforeDiscard, stale);
        var neverSent = Enumerable.Range(0, guest.FinalRam().Length / 4096).Select(p => (long)p).Where(p => !sentBeforeDiscard.Contains(p)).ToHashSet();
        output.WriteLine($"pc.ram: {stale.Count} pages sent and written since, {neverSent.Count} never sent");
        Assert.Equal(stale.Union(neverSent).Order(), discarded.Order());

        GuestMemory.AssertSame(guest.FinalRam(), destination.SaveMemory(Path.Combine(_work, "destination.ram")), "the destination's RAM after the migration", GuestMemory.VgaWindow);
    }

    /// <summary>
    /// The same run with the discards of pages sent and written since left out (a test-only switch of the
    /// engine): the destination keeps its stale precopy copies of those pages. It then refuses the page sent
    /// again after LISTEN (placing a page that is already there fails, and with it the migration), or, had
    /// it taken it, would end with RAM that is not the guest's. Either way the run fails, which shows
    /// that the discards are what makes the test above pass.
    /// </summary>
    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public async Task WithoutTheDiscardsOfPagesWrittenSinceTheDestinationDoesNotEndWithTheGuestsRam(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var saved = SaveDirtyGuest(qemu);
        using var baseGuest = SavedStreamGuest.Open(saved);
        using var guest = new WrittenGuest(baseGuest);
        using var destination = WaitingDestination(qemu, out var path);
        using var socket = await ConnectAsync(path);
        await using var wire = new NetworkStream(socket, ownsSocket: false);
        var source = new PostcopySource(guest, new PostcopySourceOptions
        {
            PrecopyDuration = TimeSpan.FromSeconds(2), MaxPrecopyRounds = 1000, MaxBandwidth = 4 << 20, SuppressStaleDiscardsForTesting = true,
        });
        string outcome;
        try
        {
            var stats = await source.MigrateAsync(wire).WaitAsync(TimeSpan.FromSeconds(120));
            output.WriteLine($"precopy pages {stats.PrecopyPages}, discards {stats.Discards}");
            destination.WaitIncomingEnd(m => m["status"]?.GetValue<string>() is "completed" or "failed", TimeSpan.FromSeconds(30), "the destination's end");
            var differing = GuestMemory.FirstDifferingPage(guest.FinalRam(), destination.SaveMemory(Path.Combine(_work, "destination.ram")), GuestMemory.VgaWindow);
            // A stale copy that was sent as a zero page left nothing at the destination to discard
            // (QEMU skips a zero page over memory still zero), so only stale data pages must show.
            if (guest.StaleDataAtStop is { Count: > 0 } staleData)
            {
                Assert.True(differing is not null, $"without the discards the destination still ended with the guest's RAM, though {staleData.Count} stale pages had been sent as data: the discard test above would pass without them");
                outcome = $"the migration completed, but pc.ram page 0x{differing:x} differs from the guest's";
            }
            else
            {
                Assert.True(differing is null, $"every stale page had been sent as a zero page, yet pc.ram page 0x{differing:x} differs");
                outcome = "every stale page had been sent as a zero page, which needs no discard, and the RAM is the guest's";
            }
        }
        catch (PostcopySourceException e)
        {
            var errors = destination.KillAndReadErrors();
            outcome = $"the migration failed: {e.Message}; the destination said: {errors}";
            // The reason must be the stale page: placing it again found it there (EEXIST: 7.2 says "File exists", 10.0 "errno=17").
            Assert.True(errors.Contains("File exists", StringComparison.Ordinal) || errors.Contains("errno=17", StringComparison.Ordinal), outcome);
        }

        Assert.True(guest.StaleAtStop is { Count: > 0 }, "no page was written after it was sent: nothing stale to discard");
        output.WriteLine($"{guest.StaleAtStop!.Count} pages sent and written since were not discarded: {outcome}");
    }

    /// <summary>What the stream put twice into place: pc.ram pages sent after LISTEN twice, or sent before, not discarded and sent again.</summary>
    private static string ResendsAfterListen(byte[] stream)
    {
        var visitor = new DiscardCollector { Sent = [], Discarded = [], AfterListen = [] };
        MigrationStreamDriver.Read(new MemoryStream(stream), new MigrationStreamReader(), ref visitor);
        var twice = visitor.AfterListen.GroupBy(p => p).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToArray();
        var kept = visitor.AfterListen.Where(p => visitor.Sent.Contains(p) && !visitor.Discarded.Contains(p)).Take(10).ToArray();
        return $"pages after LISTEN: {visitor.AfterListen.Count}; twice: [{string.Join(",", twice.Select(p => $"0x{p:x}"))}]; precopy pages kept and resent: [{string.Join(",", kept.Select(p => $"0x{p:x}"))}]";
    }

    /// <summary>The pc.ram pages sent before the first discard, and the pc.ram pages the discards name.</summary>
    private static (HashSet<long> Sent, List<long> Discarded) ReadPrecopyAndDiscards(byte[] stream)
    {
        var visitor = new DiscardCollector { Sent = [], Discarded = [], AfterListen = [] };
        var error = MigrationStreamDriver.Read(new MemoryStream(stream), new MigrationStreamReader(), ref visitor);
        Assert.True(error is null || visitor.SawEnd, $"our reader refused the stream qmig sent: {error}");
        return (visitor.Sent, visitor.Discarded);
    }

    /// <summary>A paused QEMU waiting on a Unix socket with postcopy-ram on.</summary>
    private QemuGuest WaitingDestination(QemuBuild qemu, out string socketPath)
    {
        var destination = new QemuGuest(qemu, _work, "destination", ReceivePostcopyTests.AssembleGuest(_work, "destination"), "-incoming", "defer", "-S");
        destination.EnableCapabilities("postcopy-ram");
        socketPath = Path.Combine(_work, "incoming.sock");
        destination.Qmp.Execute("migrate-incoming", new { uri = $"unix:{socketPath}" });
        return destination;
    }

    private static async Task<Socket> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    private string SaveDirtyGuest(QemuBuild qemu)
    {
        var path = Path.Combine(_work, "saved.mig");
        SavedDirtyGuest.Save(qemu, _work, path);
        return path;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private struct DiscardCollector : IMigrationVisitor
    {
        public HashSet<long> Sent;
        public List<long> Discarded;
        public List<long> AfterListen;
        public bool SawEnd;
        public bool Listening;

        public readonly void OnFileHeader(in RecordInfo record, uint version)
        {
        }

        public readonly void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
        {
        }

        public readonly void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
        {
        }

        public readonly void OnSectionHeader(in RecordInfo record, SectionInfo section)
        {
        }

        public readonly void OnRamBlock(in RecordInfo record, RamBlock block)
        {
        }

        public readonly void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            var isPage = (ram.AddrFlags & ((ulong)RamSaveFlag.Page | (ulong)RamSaveFlag.Zero)) != 0;
            if (isPage && block?.Name == "pc.ram" && Discarded.Count == 0 && !SawEnd)
            {
                Sent.Add((long)((ram.AddrFlags & ~0xfffUL) / 4096));
            }

            if (isPage && block?.Name == "pc.ram" && Listening)
            {
                AfterListen.Add((long)((ram.AddrFlags & ~0xfffUL) / 4096));
            }
        }

        public readonly void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
        {
        }

        public readonly void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
        {
        }

        public readonly void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
        {
        }

        public readonly void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
        {
        }

        public readonly void OnSectionFooter(in RecordInfo record, SectionInfo section)
        {
        }

        public void OnCommand(in RecordInfo record, in Command command)
        {
            Listening |= command.Cmd == MigCmd.PostcopyListen;
            if (command.Cmd != MigCmd.PostcopyRamDiscard)
            {
                return;
            }

            Assert.Equal(OperationStatusDone, PostcopyRamDiscard.TryRead(command.Payload, out var discard, out _));
            Assert.InRange(discard.Ranges.Count, 1, 12);
            if (System.Text.Encoding.ASCII.GetString(discard.BlockName) != "pc.ram")
            {
                return;
            }

            var raw = discard.Ranges.Raw;
            for (var i = 0; i < discard.Ranges.Count; i++)
            {
                var start = BinaryPrimitives.ReadUInt64BigEndian(raw.Slice(i * 16));
                var length = BinaryPrimitives.ReadUInt64BigEndian(raw.Slice((i * 16) + 8));
                for (var page = start / 4096; page < (start + length) / 4096; page++)
                {
                    Discarded.Add((long)page);
                }
            }
        }

        public void OnEndOfSections(in RecordInfo record) => SawEnd = true;

        public readonly void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
        {
        }

        private const System.Buffers.OperationStatus OperationStatusDone = System.Buffers.OperationStatus.Done;
    }

    /// <summary>Everything written to a stream, kept; reads pass through.</summary>
    private sealed class TeeStream(Stream inner) : Stream
    {
        private readonly MemoryStream _copy = new();

        public byte[] Captured
        {
            get
            {
                lock (_copy)
                {
                    return _copy.ToArray();
                }
            }
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (_copy)
            {
                _copy.Write(buffer);
            }

            inner.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (_copy)
            {
                _copy.Write(buffer.Span);
            }

            return inner.WriteAsync(buffer, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
