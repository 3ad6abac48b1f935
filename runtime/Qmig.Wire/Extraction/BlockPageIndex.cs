using System.Runtime.InteropServices;
using Qmig.Wire.IO;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Extraction;

/// <summary>
/// Where the final copy of each target page of one RAM block lives in a saved stream. A precopy
/// stream gets one 64-bit entry per page, whose top two bits say what the rest is: 0 a zero page
/// (the whole entry is 0, so a page no record wrote is zero too), 1 the file offset of a whole page
/// (a PAGE record's payload), 2 the file offset of a zlib stream (a 7.2 COMPRESS_PAGE payload, its
/// 4-byte length just before it), 3 a slot of the <see cref="DecodedPageStore"/>. The entries are
/// allocated zeroed (<see cref="LargeZeroedMemory"/>), so the memory behind runs of pages that no
/// record wrote is never touched. A mapped-ram block has no entries: its page bitmap says which
/// pages are in its pages region, at <c>pages_offset + page * page_size</c>, and the others are zero.
/// </summary>
internal sealed unsafe class BlockPageIndex : IDisposable
{
    public const ulong KindMask = 3UL << 62;
    public const ulong ValueMask = ~KindMask;
    public const ulong FilePage = 1UL << 62;
    public const ulong CompressedPage = 2UL << 62;
    public const ulong DecodedPage = 3UL << 62;

    private ulong* _entries;
    private ulong[]? _present;

    private BlockPageIndex(RamBlock block, int pageSize)
    {
        Block = block;
        PageCount = (long)(block.UsedLength / (ulong)pageSize);
    }

    public RamBlock Block { get; }

    public long PageCount { get; }

    /// <summary>Bytes the entries take (reserved; resident only where records were indexed).</summary>
    public long EntryBytes => _entries != null ? PageCount * sizeof(ulong) : 0;

    private nuint EntryAllocationBytes => checked((nuint)Math.Max(1, PageCount) * sizeof(ulong));

    /// <summary>mapped-ram: where page 0 of the block's pages region lies in the file.</summary>
    public long PagesOffset { get; private set; }

    public bool IsMappedRam => _present is not null;

    /// <summary>An index of one entry per page, all zero pages until records say otherwise.</summary>
    public static BlockPageIndex ForRecords(RamBlock block, int pageSize)
    {
        var index = new BlockPageIndex(block, pageSize);
        index._entries = (ulong*)LargeZeroedMemory.Allocate(index.EntryAllocationBytes);
        return index;
    }

    /// <summary>A mapped-ram block: which pages are present comes later, with its bitmap.</summary>
    public static BlockPageIndex ForMappedRam(RamBlock block, int pageSize) => new(block, pageSize) { _present = [] };

    public void SetMappedRamLayout(long pagesOffset, ReadOnlySpan<byte> bitmap)
    {
        PagesOffset = pagesOffset;
        _present = new ulong[(PageCount + 63) / 64];
        bitmap.Slice(0, Math.Min(bitmap.Length, _present.Length * sizeof(ulong))).CopyTo(MemoryMarshal.AsBytes(_present.AsSpan()));
    }

    public ulong this[long page]
    {
        get => _entries[page];
        set => _entries[page] = value;
    }

    /// <summary>The entries as byte ranges of at most 1 GiB, for writing them to or reading them from a file as they are.</summary>
    public IEnumerable<(long Offset, int Length)> EntryChunks()
    {
        const int Chunk = 1 << 30;
        for (var offset = 0L; offset < EntryBytes; offset += Chunk)
        {
            yield return (offset, (int)Math.Min(Chunk, EntryBytes - offset));
        }
    }

    /// <summary>The bytes of the entries from <paramref name="offset"/>: one of <see cref="EntryChunks"/>.</summary>
    public Span<byte> EntrySpan(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, EntryBytes);
        return new Span<byte>((byte*)_entries + offset, length);
    }

    /// <summary>mapped-ram: the page is in the pages region (its bitmap bit is set).</summary>
    public bool IsPresent(long page) => (_present![page >> 6] & (1UL << (int)(page & 63))) != 0;

    public void Dispose()
    {
        if (_entries != null)
        {
            LargeZeroedMemory.Free(_entries, EntryAllocationBytes);
            _entries = null;
        }
    }
}
