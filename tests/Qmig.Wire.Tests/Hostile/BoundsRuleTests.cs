using System.Buffers;
using System.Buffers.Binary;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;
using Qmig.Wire.Writing;
using Xunit;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>
/// Each bounds rule a destination must enforce, fired by one hostile record placed after pages
/// that were applied and before pages that would be: the reader stops with the rule's id at that
/// record, and the destination's memory (RAM images written through RamImageSet) is
/// byte-identical to the memory after the valid prefix alone, so nothing of the hostile record or
/// what follows it was written.
/// </summary>
public class BoundsRuleTests
{
    private const int Page = StreamModelWriter.PageSize;
    private const uint Ram = 2;

    [Fact]
    public void Qmig1301_PageAtTheBlocksUsedLength_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.PageOutsideBlock, w => w.RamPage("pc.ram"u8, 16 * Page, Filled(0xCC)));

    [Fact]
    public void Qmig1301_PageFarBeyondTheBlock_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.PageOutsideBlock, w => w.RamZero("vga.vram"u8, 1UL << 40, 0xCC));

    [Fact]
    public void Qmig1302_ContinueWithNoCurrentBlock_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.ContinueWithoutBlock,
            w => RamRecord.Write(w.Output, Page, 0x1000UL | (ulong)RamSaveFlag.Page | (ulong)RamSaveFlag.ContinueBlock, default, 0, Filled(0xCC), 1, default, default),
            pagesBefore: false);

    [Fact]
    public void Qmig1303_UnknownBlockName_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.UnknownBlock, w => w.RamPage("pc.rom"u8, 0, Filled(0xCC)));

    [Fact]
    public void Qmig1304_BlockListOverrunsTheAnnouncedTotal_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.BlockListTotal, w => w.RamPage("pc.ram"u8, 0, Filled(0xCC)), blockListTotal: 16 * Page + 2 * Page);

    [Fact]
    public void Qmig1304_BlockListShortOfTheAnnouncedTotal_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.BlockListTotal, w => w.RamPage("pc.ram"u8, 0, Filled(0xCC)), blockListTotal: 16 * Page + 4 * Page + Page);

    [Fact]
    public void Qmig1404_DiscardRangeBeyondTheBlock_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.DiscardRange, w =>
        {
            var ranges = new ArrayBufferWriter<byte>();
            DiscardRange.Write(ranges, 12 * Page, 8 * Page);
            var payload = new ArrayBufferWriter<byte>();
            PostcopyRamDiscard.Write(payload, 0, "pc.ram"u8, ranges.WrittenSpan);
            w.Command(MigCmd.PostcopyRamDiscard, payload.WrittenSpan);
        }, advise: true, topLevel: true);

    [Fact]
    public void Qmig1407_AdviseWithAnotherTargetPageSize_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.AdvisePageSize, w => w.PostcopyAdvise(Page, 2 * Page), topLevel: true);

    [Fact]
    public void Qmig1203_FooterOfAnotherSection_WritesNothing() =>
        AssertFiresBeforeAnyWrite(MigrationRules.FooterMismatch, w =>
        {
            w.RamEos();
            w.Footer(Ram + 7);
        }, closeSection: false);

    [Fact]
    public void Qmig1503_ReceivedBitmapOfTheWrongSize_LeavesTheDirtyBitmapUntouched() =>
        AssertBitmapRuleFires(bitmapBytes: 16, endMarker: 0x0123456789ABCDEF);

    [Fact]
    public void Qmig1503_ReceivedBitmapWithABadEndMarker_LeavesTheDirtyBitmapUntouched() =>
        AssertBitmapRuleFires(bitmapBytes: 8, endMarker: 0x0123456789ABCDEE);

    [Fact]
    public void Qmig1503_ReceivedBitmapForAnUnknownBlock_LeavesTheDirtyBitmapUntouched() =>
        AssertBitmapRuleFires(bitmapBytes: 8, endMarker: 0x0123456789ABCDEF, block: "pc.rom");

    private static byte[] Filled(byte value) => Enumerable.Repeat(value, Page).ToArray();

    /// <summary>
    /// Writes: header, configuration, [ADVISE], the RAM block list (pc.ram 16 pages, vga.vram 4
    /// pages), a RAM part with two pages, then the hostile record, then more pages, EOF. Reads the
    /// part before the hostile record alone and the whole stream, each into its own images.
    /// </summary>
    private static void AssertFiresBeforeAnyWrite(MigrationRule rule, Action<MigrationStreamWriter> hostile,
        bool pagesBefore = true, ulong? blockListTotal = null, bool advise = false, bool topLevel = false, bool closeSection = true)
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new MigrationStreamWriter(output, Page);
        w.FileHeader();
        w.Configuration("pc-i440fx-7.2");
        if (advise)
        {
            w.PostcopyAdvise(Page, Page);
        }

        w.SectionStart(Ram, "ram", 0, 4);
        (string, ulong)[] blocks = [("pc.ram", 16 * Page), ("vga.vram", 4 * Page)];
        if (blockListTotal is ulong total)
        {
            RamRecord.Write(output, Page, total | (ulong)RamSaveFlag.MemSize, default, 0, default, 1, default, default);
            foreach (var (name, length) in blocks)
            {
                RamBlockEntry.Write(output, false, false, System.Text.Encoding.ASCII.GetBytes(name), length, 0, 0);
            }
        }
        else
        {
            w.RamBlockList(blocks);
        }

        int prefix;
        if (blockListTotal is null)
        {
            w.RamEos();
            w.Footer(Ram);
            w.SectionPart(Ram);
            if (pagesBefore)
            {
                w.RamPage("pc.ram"u8, 0, Filled(0xAA));
                w.RamPage("vga.vram"u8, 3 * Page, Filled(0xAB));
            }

            if (topLevel)
            {
                w.RamEos();
                w.Footer(Ram);
            }

            prefix = output.WrittenCount;
            hostile(w);
        }
        else
        {
            // The block list itself is hostile: a total too small stops the reader at the entry
            // that overruns it, a total too large at the first bytes after the real list.
            prefix = blockListTotal < 20 * Page ? output.WrittenCount - (1 + "vga.vram".Length + 8) : output.WrittenCount;
        }

        if (topLevel)
        {
            w.SectionPart(Ram);
        }

        // Pages the reader must never reach.
        w.RamPage("pc.ram"u8, 0, Filled(0xEE));
        w.RamPage("pc.ram"u8, 5 * Page, Filled(0xEF));
        w.RamZero("vga.vram"u8, 3 * Page, 0xEE);
        if (closeSection)
        {
            w.RamEos();
            w.Footer(Ram);
        }

        w.EndOfSections();
        var bytes = output.WrittenSpan.ToArray();

        using var before = new ImageDestination();
        var prefixStatus = before.Read(bytes[..prefix], isFinalBlock: false);
        Assert.True(prefixStatus == OperationStatus.NeedMoreData, $"{prefixStatus} {before.Reader.Error}");

        using var after = new ImageDestination();
        Assert.Equal(OperationStatus.InvalidData, after.Read(bytes, isFinalBlock: true));
        var error = after.Reader.Error!;
        Assert.True(error.Rule == rule, $"expected {rule.Id}, got {error}");
        Assert.InRange(error.Offset, prefix, bytes.Length - 1);
        Assert.Equal(before.Hashes(), after.Hashes());
    }

    /// <summary>
    /// The return path's "memory" is the source's dirty bitmap, which a RECV_BITMAP blob replaces:
    /// a valid blob for vga.vram first, then a hostile one for pc.ram that must not land.
    /// </summary>
    private static void AssertBitmapRuleFires(int bitmapBytes, ulong endMarker, string block = "pc.ram")
    {
        RamBlock[] blocks = [new(0, "pc.ram"u8.ToArray(), 64 * Page, null, null), new(1, "vga.vram"u8.ToArray(), 128 * Page, null, null)];
        var output = new ArrayBufferWriter<byte>();
        RecvBitmapMessage(output, "vga.vram", Enumerable.Repeat((byte)0x0F, 16).ToArray(), 0x0123456789ABCDEF);
        var prefix = output.WrittenCount;
        RecvBitmapMessage(output, block, Enumerable.Repeat((byte)0xF0, bitmapBytes).ToArray(), endMarker);
        var bytes = output.WrittenSpan.ToArray();

        var dirtyBefore = new Dictionary<string, byte[]> { ["pc.ram"] = new byte[8], ["vga.vram"] = new byte[16] };
        var dirtyAfter = new Dictionary<string, byte[]> { ["pc.ram"] = new byte[8], ["vga.vram"] = new byte[16] };

        var prefixReader = new ReturnPathReader(blocks: blocks);
        var sequence = new ReadOnlySequence<byte>(bytes, 0, prefix);
        var visitor = new BitmapVisitor(dirtyBefore);
        Assert.Equal(OperationStatus.Done, prefixReader.Read(ref sequence, true, ref visitor));

        var reader = new ReturnPathReader(blocks: blocks);
        sequence = new ReadOnlySequence<byte>(bytes);
        visitor = new BitmapVisitor(dirtyAfter);
        Assert.Equal(OperationStatus.InvalidData, reader.Read(ref sequence, true, ref visitor));
        Assert.Equal(MigrationRules.BadBitmapBlob, reader.Error!.Rule);
        Assert.InRange(reader.Error.Offset, prefix, bytes.Length - 1);
        Assert.Equal(dirtyBefore.ToDictionary(p => p.Key, p => Convert.ToHexString(p.Value)), dirtyAfter.ToDictionary(p => p.Key, p => Convert.ToHexString(p.Value)));
    }

    private static void RecvBitmapMessage(ArrayBufferWriter<byte> output, string block, byte[] bitmap, ulong endMarker)
    {
        var name = System.Text.Encoding.ASCII.GetBytes(block);
        var header = output.GetSpan(4 + 1 + name.Length);
        BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)MigRpMsg.RecvBitmap);
        BinaryPrimitives.WriteUInt16BigEndian(header.Slice(2), (ushort)(1 + name.Length));
        header[4] = (byte)name.Length;
        name.CopyTo(header.Slice(5));
        output.Advance(4 + 1 + name.Length);
        var blob = output.GetSpan(16 + bitmap.Length);
        BinaryPrimitives.WriteUInt64BigEndian(blob, (ulong)bitmap.Length);
        bitmap.CopyTo(blob.Slice(8));
        BinaryPrimitives.WriteUInt64BigEndian(blob.Slice(8 + bitmap.Length), endMarker);
        output.Advance(16 + bitmap.Length);
    }

    /// <summary>Applies each received bitmap to the block it was requested for (the last RECV_BITMAP message).</summary>
    private struct BitmapVisitor(Dictionary<string, byte[]> dirty) : IReturnPathVisitor
    {
        private string? _block;

        public void OnMessage(in RecordInfo record, in RpMessage message) =>
            _block = message.MsgType == MigRpMsg.RecvBitmap ? System.Text.Encoding.ASCII.GetString(message.Payload.Slice(1)) : null;

        public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob) => blob.Bitmap.CopyTo(dirty[_block!]);
    }
}
