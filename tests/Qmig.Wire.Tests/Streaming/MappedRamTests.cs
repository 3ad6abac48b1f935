using System.Buffers.Binary;
using Qmig.Wire.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>
/// mapped-ram headers that lie: each is the real QEMU 10.0 file with one field of pc.ram's header
/// (at 0x72, after the first block-list entry) changed; the reader must name the problem, not write
/// outside a block or read the regions out of order.
/// </summary>
public class MappedRamTests
{
    private const int HeaderAt = 0x72;
    private static readonly string StreamPath = Path.Combine(AppContext.BaseDirectory, "data", "pc-2m-mapped-ram-qemu10", "pc-2m-mapped-ram-qemu10.mig");

    [Theory]
    [InlineData(0, 4, 2UL, "QMIG1312")]                // version 2: newer than QEMU 10 reads
    [InlineData(4, 8, 0x2000UL, "QMIG1312")]           // page size other than the target's
    [InlineData(20, 8, 0x100800UL, "QMIG1312")]        // pages region not page aligned
    [InlineData(12, 8, 0x10UL, "QMIG1902")]            // bitmap before the header: needs seeking back
    [InlineData(12, 8, 0xffff0UL, "QMIG1902")]         // bitmap running into the pages region
    [InlineData(20, 8, 0x7fff_ffff_ffff_f000UL, "QMIG1312")] // pages beyond any file
    public void AHeaderThatDoesNotDescribeAStreamableLayoutIsReported(int field, int size, ulong value, string rule)
    {
        var bytes = File.ReadAllBytes(StreamPath);
        var at = bytes.AsSpan(HeaderAt + field, size);
        if (size == 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(at, (uint)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt64BigEndian(at, value);
        }

        var error = Read(bytes, 4096);
        Assert.NotNull(error);
        Assert.Equal(rule, error.Rule.Id);
    }

    [Fact]
    public void TheFileCutInsideAPagesRegionIsTruncated()
    {
        var bytes = File.ReadAllBytes(StreamPath).AsSpan(0, 0x150000).ToArray();
        var error = Read(bytes, 64 * 1024);
        Assert.NotNull(error);
        Assert.Equal("QMIG1104", error.Rule.Id);
        Assert.Contains("mapped-ram", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs of pages may be split differently by small reads; everything else, and the page bytes, must be the same.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4099)]
    public void SmallReadsGiveTheSameRecordsAndPageBytes(int chunk)
    {
        var bytes = File.ReadAllBytes(StreamPath);
        var whole = RecordLog.ReadWhole(bytes);
        var log = new RecordLog();
        var visitor = new RecordLogVisitor(log);
        var reader = new MigrationStreamReader();
        using (var stream = new MemoryStream(bytes))
        {
            Assert.Null(MigrationStreamDriver.Read(stream, reader, ref visitor, chunk));
        }

        Assert.Equal(bytes.Length, reader.Position);
        Assert.Equal(whole.Lines.Where(l => !IsPages(l)), log.Lines.Where(l => !IsPages(l)));
        Assert.Equal(PageBytes(whole), PageBytes(log));
        Assert.Equal((185 + 47) * 4096L, PageBytes(log));
    }

    private static bool IsPages(string line) => line.StartsWith(nameof(RecordKind.MappedRamPages) + " ", StringComparison.Ordinal);

    private static long PageBytes(RecordLog log) => log.Lines.Where(IsPages).Sum(l => long.Parse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture));

    private static MigrationError? Read(byte[] bytes, int chunk)
    {
        var counts = new RecordCounts();
        var visitor = new CountingVisitor(counts);
        var reader = new MigrationStreamReader();
        using var stream = new MemoryStream(bytes);
        return MigrationStreamDriver.Read(stream, reader, ref visitor, chunk);
    }
}
