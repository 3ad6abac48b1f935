using System.Buffers.Binary;
using Qmig.Wire.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>The preempt channel's own rules: no header, its own CONTINUE state, EOF or EOS ends it, never mid-record.</summary>
public class PreemptChannelTests
{
    private static readonly RamBlock[] Blocks = [new(0, "pc.ram"u8.ToArray(), 0x100000, null, null), new(1, "pc.bios"u8.ToArray(), 0x40000, null, null)];

    private static byte[] Word(ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        return b;
    }

    private static byte[] Page(ulong offset, string? block, byte fill) =>
        [.. Word(offset | 0x08 | (block is null ? 0x20UL : 0)), .. block is null ? [] : (byte[])[(byte)block.Length, .. System.Text.Encoding.ASCII.GetBytes(block)], .. Enumerable.Repeat(fill, 4096)];

    private static (MigrationError? Error, RecordCounts Counts, MigrationStreamReader Reader) Read(byte[] bytes)
    {
        var counts = new RecordCounts();
        var visitor = new CountingVisitor(counts);
        var reader = new MigrationStreamReader(new MigrationReaderOptions { PreemptChannelBlocks = Blocks });
        using var stream = new MemoryStream(bytes);
        return (MigrationStreamDriver.Read(stream, reader, ref visitor, 1000), counts, reader);
    }

    [Fact]
    public void PagesWithoutEosEndAtEof()
    {
        var (error, counts, reader) = Read([.. Page(0x1000, "pc.bios", 1), .. Page(0x2000, null, 2)]);
        Assert.Null(error);
        Assert.True(reader.IsCompleted);
        Assert.Equal(2, counts.RamFlags["PAGE"]);
        Assert.Equal(1, counts.RamFlags["CONTINUE"]);
    }

    [Fact]
    public void ContinueNeedsABlockNamedOnThisChannel()
    {
        var (error, _, _) = Read(Page(0x1000, null, 1));
        Assert.Equal("QMIG1302", error?.Rule.Id);
    }

    [Fact]
    public void EndingInsideARecordIsTruncated()
    {
        var (error, _, _) = Read(Page(0x1000, "pc.ram", 1).AsSpan(0, 3000).ToArray());
        Assert.Equal("QMIG1104", error?.Rule.Id);
    }

    [Theory]
    [InlineData(0x04UL, "QMIG1106")]    // MEM_SIZE: blocks come from the main stream only
    [InlineData(0x40UL, "QMIG1308")]    // XBZRLE: postcopy pages are whole pages
    public void RecordsThePreemptChannelCannotCarry(ulong flags, string rule)
    {
        var (error, _, _) = Read([.. Word(flags), 6, .. "pc.ram"u8, 1, 0, 0]);
        Assert.Equal(rule, error?.Rule.Id);
    }

    [Fact]
    public void NothingFollowsEos()
    {
        var (error, _, _) = Read([.. Page(0, "pc.ram", 1), .. Word(0x10), .. Page(0, "pc.ram", 1)]);
        Assert.Equal("QMIG1105", error?.Rule.Id);
    }

    [Fact]
    public void APageOutsideItsBlockIsRefused()
    {
        var (error, _, _) = Read(Page(0x40000, "pc.bios", 1));
        Assert.Equal("QMIG1301", error?.Rule.Id);
    }
}
