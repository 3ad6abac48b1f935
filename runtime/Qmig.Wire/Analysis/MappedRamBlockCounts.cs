using Qmig.Wire.Streaming;

namespace Qmig.Wire.Analysis;

/// <summary>One block's mapped-ram layout and how many of its pages the file holds.</summary>
public sealed class MappedRamBlockCounts
{
    internal MappedRamBlockCounts(RamBlock block, ulong bitmapOffset, ulong pagesOffset)
    {
        Block = block;
        BitmapOffset = bitmapOffset;
        PagesOffset = pagesOffset;
    }

    /// <summary>The block.</summary>
    public RamBlock Block { get; }

    /// <summary>Where the block's bitmap is in the file.</summary>
    public ulong BitmapOffset { get; }

    /// <summary>Where the block's pages region is in the file.</summary>
    public ulong PagesOffset { get; }

    /// <summary>The bitmap's length in bytes.</summary>
    public int BitmapBytes { get; internal set; }

    /// <summary>Set bits of the bitmap that address a page inside the block.</summary>
    public long PagesPresent { get; internal set; }

    /// <summary>Page bytes the reader handed over from the pages region (all present pages, for a complete file).</summary>
    public long BytesRead { get; internal set; }
}
