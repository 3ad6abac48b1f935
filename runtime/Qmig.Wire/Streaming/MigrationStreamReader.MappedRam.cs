using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Qmig.Wire.Streaming;

/// <summary>
/// mapped-ram (QEMU 9.0+ <c>file:</c> migration): each block-list entry is followed by a
/// <see cref="MappedRamHeader"/>, and the file then holds the block's page bitmap and its pages
/// region at the offsets the header names, the record sequence resuming at
/// <c>pages_offset + used_length</c> (QEMU 10.0 parse_ramblock_mapped_ram()). QEMU seeks; this
/// reader stays sequential by requiring the regions in file order (header, bitmap, pages), which
/// is how every QEMU writer lays them out, and skips the sparse gaps between them.
/// </summary>
public sealed partial class MigrationStreamReader
{
    private RamBlock? _mrBlock;
    private long _mrSkipTo;
    private Phase _mrAfterSkip;
    private long _mrBitmapOffset;
    private long _mrBitmapEnd;
    private long _mrPagesOffset;
    private long _mrPagesEnd;
    private long _mrPageCount;
    private ulong[] _mrBitmap = [];

    /// <summary>
    /// Reads a block-list entry with the mapped-ram header that follows it as one step, so the
    /// block is announced only once its layout is known and checked.
    /// </summary>
    private OperationStatus ReadMappedRamHeader<TVisitor>(ReadOnlySpan<byte> rest, int entryLength, RamBlock block, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        var status = MappedRamHeader.TryRead(rest.Slice(entryLength), out var header, out var headerLength, out var error);
        if (status != OperationStatus.Done)
        {
            return status == OperationStatus.InvalidData ? Fail(MigrationRules.MappedRamLayout, error.Record, $"{error.Record}.{error.Field}: {error.Rule}", entryLength + error.Offset) : status;
        }

        var headerAt = _position + entryLength;
        var headerEnd = headerAt + headerLength;
        if (header.PageSize != (ulong)_pageSize)
        {
            // QEMU sizes the bitmap with the header's page size but places pages by the target's:
            // a different value cannot describe a layout both agree on.
            return Fail(MigrationRules.MappedRamLayout, "mapped_ram_header",
                $"block {block}: page_size {header.PageSize} is not the target page size {_pageSize}", entryLength + 4);
        }

        if (header.PagesOffset % (ulong)_pageSize != 0)
        {
            return Fail(MigrationRules.MappedRamLayout, "mapped_ram_header",
                $"block {block}: pages_offset 0x{header.PagesOffset:x} is not aligned to the {_pageSize}-byte page", entryLength + 20);
        }

        var pageCount = (long)(block.UsedLength / (ulong)_pageSize);
        var bitmapBytes = (pageCount + 63) / 64 * 8;
        const ulong limit = long.MaxValue / 2;
        if (header.BitmapOffset > limit || header.PagesOffset > limit || block.UsedLength > limit)
        {
            return Fail(MigrationRules.MappedRamLayout, "mapped_ram_header",
                $"block {block}: bitmap_offset 0x{header.BitmapOffset:x} or pages_offset 0x{header.PagesOffset:x} lies beyond any file", entryLength + 12);
        }

        if ((long)header.BitmapOffset < headerEnd || (long)header.BitmapOffset + bitmapBytes > (long)header.PagesOffset)
        {
            // QEMU would seek back for such a layout; a streaming reader cannot, and no QEMU writes one.
            return Fail(MigrationRules.Unsupported, "mapped_ram_header",
                $"block {block}: the bitmap (0x{header.BitmapOffset:x}, {bitmapBytes} bytes) and pages (0x{header.PagesOffset:x}) regions are not in file order after the header (0x{headerEnd:x}); reading them needs seeking",
                entryLength + 12);
        }

        consumed = entryLength + headerLength;
        _mrBlock = block;
        _mrBitmapOffset = (long)header.BitmapOffset;
        _mrBitmapEnd = _mrBitmapOffset + bitmapBytes;
        _mrPagesOffset = (long)header.PagesOffset;
        _mrPagesEnd = _mrPagesOffset + (long)block.UsedLength;
        _mrPageCount = pageCount;
        if (_mrBitmap.Length < bitmapBytes / 8)
        {
            _mrBitmap = new ulong[bitmapBytes / 8];
        }

        Array.Clear(_mrBitmap, 0, (int)(bitmapBytes / 8));
        visitor.OnRamBlock(Info(RecordKind.RamBlock, rest.Slice(0, entryLength), _current!.Id), block);
        visitor.OnMappedRamHeader(new RecordInfo(RecordKind.MappedRamHeader, headerAt, rest.Slice(entryLength, headerLength), _depth, _current.Id), block, header);
        SkipThen(_mrBitmapOffset, Phase.MappedRamBitmap);
        return OperationStatus.Done;
    }

    private void SkipThen(long target, Phase next)
    {
        _mrSkipTo = target;
        _mrAfterSkip = next;
        _phase = Phase.MappedRamSkip;
    }

    /// <summary>Bytes outside the record sequence and outside any region (sparse holes): consumed unread.</summary>
    private OperationStatus SkipMappedRamGap(ReadOnlySpan<byte> rest, out int consumed)
    {
        consumed = (int)Math.Min(rest.Length, _mrSkipTo - _position);
        if (_position + consumed == _mrSkipTo)
        {
            _phase = _mrAfterSkip;
        }

        return OperationStatus.Done;
    }

    /// <summary>The bitmap is copied as it arrives, so its size is not bounded by any one read.</summary>
    private OperationStatus ReadMappedRamBitmap<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var bitmap = MemoryMarshal.AsBytes(_mrBitmap.AsSpan(0, (int)((_mrBitmapEnd - _mrBitmapOffset) / 8)));
        var done = (int)(_position - _mrBitmapOffset);
        consumed = Math.Min(rest.Length, bitmap.Length - done);
        rest.Slice(0, consumed).CopyTo(bitmap.Slice(done));
        if (done + consumed < bitmap.Length)
        {
            return OperationStatus.Done;
        }

        if (!BitConverter.IsLittleEndian)
        {
            // The words are QEMU's native unsigned longs, little-endian on every host that writes them.
            for (var i = 0; i < bitmap.Length / 8; i++)
            {
                _mrBitmap[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(_mrBitmap[i]);
            }
        }

        // Bits past the last whole page address nothing; QEMU never looks at them, so neither does anyone downstream.
        if (_mrPageCount % 64 != 0)
        {
            _mrBitmap[_mrPageCount / 64] &= (1UL << (int)(_mrPageCount % 64)) - 1;
        }

        visitor.OnMappedRamBitmap(new RecordInfo(RecordKind.MappedRamBitmap, _mrBitmapOffset, bitmap, _depth, _current!.Id), _mrBlock!, bitmap);
        SkipThen(_mrPagesOffset, Phase.MappedRamPages);
        return OperationStatus.Done;
    }

    /// <summary>
    /// Hands over each run of present pages in as few calls as the input allows (one per run and
    /// read), skipping absent pages, then resumes the record sequence after the pages region.
    /// </summary>
    private OperationStatus ReadMappedRamPages<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        var page = (_position - _mrPagesOffset) / _pageSize;
        var first = NextBit(page, set: true);
        if (first == _mrPageCount)
        {
            // No more present pages: the rest of the region (and any tail shorter than a page) is skipped.
            SkipThen(_mrPagesEnd, _blockListRemaining == 0 ? Phase.RamBody : Phase.RamBlockList);
            return OperationStatus.Done;
        }

        if (first > page)
        {
            consumed = (int)Math.Min(rest.Length, (first - page) * _pageSize);
            return OperationStatus.Done;
        }

        var runEnd = NextBit(first, set: false);
        var pages = Math.Min(runEnd - first, rest.Length / _pageSize);
        if (pages == 0)
        {
            return OperationStatus.NeedMoreData;
        }

        consumed = (int)(pages * _pageSize);
        var data = rest.Slice(0, consumed);
        visitor.OnRamPages(new RecordInfo(RecordKind.MappedRamPages, _position, data, _depth, _current!.Id), _mrBlock!, (ulong)(first * _pageSize), data);
        return OperationStatus.Done;
    }

    /// <summary>The first page at or after <paramref name="from"/> whose bit is (or is not) set; the page count if none.</summary>
    private long NextBit(long from, bool set)
    {
        var flip = set ? 0UL : ulong.MaxValue;
        var word = from >> 6;
        var words = (_mrPageCount + 63) >> 6;
        if (word >= words)
        {
            return _mrPageCount;
        }

        var bits = (_mrBitmap[word] ^ flip) & (ulong.MaxValue << (int)(from & 63));
        while (bits == 0)
        {
            if (++word >= words)
            {
                return _mrPageCount;
            }

            bits = _mrBitmap[word] ^ flip;
        }

        return Math.Min(_mrPageCount, (word << 6) + BitOperations.TrailingZeroCount(bits));
    }
}
