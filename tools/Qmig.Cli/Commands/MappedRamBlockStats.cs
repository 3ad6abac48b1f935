using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary>One block's mapped-ram layout and how many of its pages the file holds, for <c>qmig stats</c>.</summary>
internal sealed class MappedRamBlockStats(RamBlock block, ulong bitmapOffset, ulong pagesOffset)
{
    public RamBlock Block { get; } = block;

    public ulong BitmapOffset { get; } = bitmapOffset;

    public ulong PagesOffset { get; } = pagesOffset;

    public int BitmapBytes { get; set; }

    /// <summary>Set bits of the bitmap that address a page inside the block.</summary>
    public long PagesPresent { get; set; }

    /// <summary>Page bytes the reader handed over from the pages region (all present pages, for a complete file).</summary>
    public long BytesRead { get; set; }
}
