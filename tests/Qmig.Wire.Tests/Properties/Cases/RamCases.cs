using System.Buffers;
using FsCheck;
using FsCheck.Fluent;

namespace Qmig.Wire.Tests.Properties.Cases;

// Cases for the records of spec/migration/ram.ksy, each with its generator of valid values.

/// <summary>
/// A RAM record. Fields whose <c>if</c> is false for the flags are still given to the writer (with
/// arbitrary values) because the writer must ignore them; the record read back holds the reader's
/// defaults there.
/// </summary>
public sealed record RamRecordCase(uint TargetPageSize, ulong AddrFlags, Bytes BlockId, byte Fill, Bytes Page, byte XbzrleEncoding, Bytes XbzrleData, Bytes Compressed)
    : RecordCase<RamRecord, RamRecord.Sequenced>
{
    private const ulong Continue = (ulong)RamSaveFlag.ContinueBlock;

    /// <summary>The record kinds: the kind flags the destination switches on (and RDMA's HOOK, also the word alone).</summary>
    private static readonly RamSaveFlag[] Kinds =
    [
        RamSaveFlag.Zero, RamSaveFlag.Page, RamSaveFlag.Xbzrle, RamSaveFlag.CompressPage,
        RamSaveFlag.MemSize, RamSaveFlag.Eos, RamSaveFlag.MultifdFlush, RamSaveFlag.Hook,
    ];

    /// <summary>
    /// Every kind, with and without CONTINUE, at a page-aligned offset; block ids of 1 to 255 bytes
    /// when the block is named; target page sizes from 0 to 4096 (the parameter is not in the
    /// record, so any value must work); XBZRLE data up to the page size (<c>valid: max</c>) with
    /// encoding 1 (<c>valid: 1</c>).
    /// </summary>
    public static Gen<WireCase> Values { get; } =
        from pageSize in Gen.Frequency((2, Gen.Elements(4096u, 1024u, 512u, 64u, 1u)), (2, Gen.Choose(0, 300).Select(v => (uint)v)))
        from kind in Gen.Elements(Kinds)
        from cont in WireGen.Bool
        from offset in WireGen.U64.Select(v => v & ~0x3ffUL)
        let flags = offset | (ulong)kind | (cont ? Continue : 0)
        let named = !cont && kind is RamSaveFlag.Zero or RamSaveFlag.Page or RamSaveFlag.Xbzrle or RamSaveFlag.CompressPage
        from blockId in named
            ? Gen.Frequency((1, Gen.Constant(new Bytes("pc.ram"u8.ToArray()))), (3, WireGen.BytesOf(1, 255)))
            : WireGen.BytesOf(0, 255)
        from fill in Gen.Frequency((3, Gen.Constant((byte)0)), (1, WireGen.U8))
        from page in kind == RamSaveFlag.Page ? WireGen.ExactBytes((int)pageSize) : WireGen.BytesOf(0, 16)
        from encoding in kind == RamSaveFlag.Xbzrle ? Gen.Constant((byte)1) : WireGen.U8
        // An absent XBZRLE delta is kept within the page size: the writer checks len_xbzrle's rule
        // even when the field is not written (see the note in the final report), so a longer one
        // would be rejected for a field that never reaches the wire.
        from xbzrle in WireGen.BytesOf(0, (int)Math.Min(pageSize, kind == RamSaveFlag.Xbzrle ? 4096u : 16u))
        from compressed in WireGen.BytesOf(0, kind == RamSaveFlag.CompressPage ? 600 : 16)
        select (WireCase)new RamRecordCase(pageSize, flags, blockId, fill, page, encoding, xbzrle, compressed);

    private ulong KindBits => AddrFlags & 0x3df;

    private bool HasBlockId => (AddrFlags & Continue) == 0 && KindBits is 0x2 or 0x8 or 0x40 or 0x100;

    public override int GetSize() => RamRecord.GetSize(TargetPageSize, AddrFlags, BlockId, Fill, Page, XbzrleEncoding, XbzrleData, Compressed);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) =>
        RamRecord.TryWrite(destination, TargetPageSize, AddrFlags, BlockId, Fill, Page, XbzrleEncoding, XbzrleData, Compressed, out written);

    public override void Write(IBufferWriter<byte> writer) =>
        RamRecord.Write(writer, TargetPageSize, AddrFlags, BlockId, Fill, Page, XbzrleEncoding, XbzrleData, Compressed);

    protected override RamRecord Expected()
    {
        var zero = KindBits == 0x2;
        var page = KindBits == 0x8;
        var xbzrle = KindBits == 0x40;
        var compress = KindBits == 0x100;
        return new RamRecord(
            TargetPageSize,
            AddrFlags,
            HasBlockId ? (byte)BlockId.Length : (byte)0,
            HasBlockId ? BlockId.Span : default,
            zero ? Fill : (byte)0,
            page ? Page.Span : default,
            xbzrle ? XbzrleEncoding : (byte)0,
            xbzrle ? (ushort)XbzrleData.Length : (ushort)0,
            xbzrle ? XbzrleData.Span : default,
            compress ? (uint)Compressed.Length : 0,
            compress ? Compressed.Span : default);
    }

    protected override OperationStatus ReadRecord(ReadOnlySpan<byte> source, out RamRecord value, out int consumed, out WireError error) =>
        RamRecord.TryRead(source, TargetPageSize, out value, out consumed, out error);

    protected override OperationStatus ReadRecord(in ReadOnlySequence<byte> source, out RamRecord.Sequenced value, out long consumed, out WireError error) =>
        RamRecord.TryRead(source, TargetPageSize, out value, out consumed, out error);

    protected override bool SpanEquals(RamRecord left, RamRecord right) => left.ContentEquals(right);

    protected override bool SequencedEquals(RamRecord.Sequenced sequenced, RamRecord span) => sequenced.ContentEquals(span);

    protected override OperationStatus WriteBack(RamRecord value, Span<byte> destination, out int written) => value.TryWriteTo(destination, out written);

    protected override int EncodedSizeOf(RamRecord value) => value.EncodedSize;
}

/// <summary>A RAM block list entry with each combination of its two optional fields (the parameters).</summary>
public sealed record RamBlockEntryCase(bool HasPageSize, bool HasMrAddr, Bytes Idstr, ulong UsedLength, ulong PageSize, ulong MrAddr)
    : RecordCase<RamBlockEntry, RamBlockEntry.Sequenced>
{
    public static Gen<WireCase> Values { get; } =
        from hasPageSize in WireGen.Bool
        from hasMrAddr in WireGen.Bool
        from idstr in Gen.Frequency((1, Gen.Elements("pc.ram", "/rom@etc/acpi/tables").Select(s => new Bytes(System.Text.Encoding.ASCII.GetBytes(s)))), (3, WireGen.BytesOf(0, 255)))
        from used in WireGen.U64
        from pageSize in WireGen.U64
        from mrAddr in WireGen.U64
        select (WireCase)new RamBlockEntryCase(hasPageSize, hasMrAddr, idstr, used, pageSize, mrAddr);

    public override int GetSize() => RamBlockEntry.GetSize(HasPageSize, HasMrAddr, Idstr, UsedLength, PageSize, MrAddr);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) =>
        RamBlockEntry.TryWrite(destination, HasPageSize, HasMrAddr, Idstr, UsedLength, PageSize, MrAddr, out written);

    public override void Write(IBufferWriter<byte> writer) => RamBlockEntry.Write(writer, HasPageSize, HasMrAddr, Idstr, UsedLength, PageSize, MrAddr);

    protected override RamBlockEntry Expected() =>
        new(HasPageSize, HasMrAddr, (byte)Idstr.Length, Idstr, UsedLength, HasPageSize ? PageSize : 0, HasMrAddr ? MrAddr : 0);

    protected override OperationStatus ReadRecord(ReadOnlySpan<byte> source, out RamBlockEntry value, out int consumed, out WireError error) =>
        RamBlockEntry.TryRead(source, HasPageSize, HasMrAddr, out value, out consumed, out error);

    protected override OperationStatus ReadRecord(in ReadOnlySequence<byte> source, out RamBlockEntry.Sequenced value, out long consumed, out WireError error) =>
        RamBlockEntry.TryRead(source, HasPageSize, HasMrAddr, out value, out consumed, out error);

    protected override bool SpanEquals(RamBlockEntry left, RamBlockEntry right) => left.ContentEquals(right);

    protected override bool SequencedEquals(RamBlockEntry.Sequenced sequenced, RamBlockEntry span) => sequenced.ContentEquals(span);

    protected override OperationStatus WriteBack(RamBlockEntry value, Span<byte> destination, out int written) => value.TryWriteTo(destination, out written);

    protected override int EncodedSizeOf(RamBlockEntry value) => value.EncodedSize;
}

public sealed record MappedRamHeaderCase(uint Version, ulong PageSize, ulong BitmapOffset, ulong PagesOffset) : PlainRecordCase<MappedRamHeader>
{
    /// <summary>Version 0 or 1 (<c>valid: max 1</c>).</summary>
    public static Gen<WireCase> Values { get; } =
        from version in Gen.Elements(0u, 1u)
        from pageSize in WireGen.U64
        from bitmap in WireGen.U64
        from pages in WireGen.U64
        select (WireCase)new MappedRamHeaderCase(version, pageSize, bitmap, pages);

    public override int GetSize() => MappedRamHeader.GetSize(Version, PageSize, BitmapOffset, PagesOffset);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) =>
        MappedRamHeader.TryWrite(destination, Version, PageSize, BitmapOffset, PagesOffset, out written);

    public override void Write(IBufferWriter<byte> writer) => MappedRamHeader.Write(writer, Version, PageSize, BitmapOffset, PagesOffset);

    protected override MappedRamHeader Expected() => new(Version, PageSize, BitmapOffset, PagesOffset);
}
