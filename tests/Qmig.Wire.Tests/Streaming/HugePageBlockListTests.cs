using System.Buffers;
using Qmig.Wire.Streaming;
using Qmig.Wire.Writing;
using Xunit;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>
/// Under postcopy, a block-list entry carries a page size only when the block's differs from the
/// host's (a hugetlbfs-backed block), and only the ADVISE summary says such blocks exist. Whichever
/// entries have one, first or last, the reader finds them, whole or a byte at a time.
/// </summary>
public class HugePageBlockListTests
{
    private const int Page = 4096;
    private const ulong HugePage = 2UL << 20;

    [Theory]
    [InlineData(true, false, false)]
    [InlineData(false, false, true)]
    [InlineData(true, true, true)]
    [InlineData(false, true, false)]
    [InlineData(false, false, false)]
    public void EveryHugePageEntryIsFound(bool first, bool middle, bool last)
    {
        (string Name, ulong Length, bool Huge)[] blocks = [("pc.ram", 4 * HugePage, first), ("node1.ram", 2 * HugePage, middle), ("pc.bios", 2 * HugePage, last)];
        var stream = Stream(blocks);
        foreach (var reader in new[] { ReadWhole(stream), ReadByteByByte(stream) })
        {
            Assert.True(reader.Error is null, reader.Error?.ToString());
            Assert.Equal(blocks.Select(b => b.Huge ? HugePage : (ulong?)null), reader.Blocks.Select(b => b.PageSize));
            Assert.Equal(blocks.Select(b => b.Length), reader.Blocks.Select(b => b.UsedLength));
        }
    }

    private static byte[] Stream((string Name, ulong Length, bool Huge)[] blocks)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MigrationStreamWriter(output, Page);
        writer.FileHeader();
        writer.Configuration("pc-i440fx-7.2");
        writer.PostcopyAdvise(HugePage | Page, Page);
        writer.SectionStart(2, "ram", 0, 4);
        RamRecord.Write(output, Page, blocks.Aggregate(0UL, (total, b) => total + b.Length) | (ulong)RamSaveFlag.MemSize, default, 0, default, 1, default, default);
        foreach (var (name, length, huge) in blocks)
        {
            RamBlockEntry.Write(output, huge, false, System.Text.Encoding.ASCII.GetBytes(name), length, huge ? HugePage : 0, 0);
        }

        writer.RamEos();
        writer.Footer(2);
        writer.EndOfSections();
        return output.WrittenSpan.ToArray();
    }

    private static MigrationStreamReader ReadWhole(byte[] stream)
    {
        var reader = new MigrationStreamReader();
        var visitor = new RecordLogVisitor(new RecordLog());
        var sequence = new ReadOnlySequence<byte>(stream);
        reader.Read(ref sequence, isFinalBlock: true, ref visitor);
        return reader;
    }

    private static MigrationStreamReader ReadByteByByte(byte[] stream)
    {
        var reader = new MigrationStreamReader();
        var visitor = new RecordLogVisitor(new RecordLog());
        var consumed = 0;
        for (var end = 1; end <= stream.Length; end++)
        {
            var sequence = new ReadOnlySequence<byte>(stream, consumed, end - consumed);
            var status = reader.Read(ref sequence, end == stream.Length, ref visitor);
            consumed = end - (int)sequence.Length;
            if (status != OperationStatus.NeedMoreData)
            {
                break;
            }
        }

        return reader;
    }
}
