namespace Qmig.Wire.Analysis;

/// <summary>One region of a RAM block: how often its pages travelled, and as what.</summary>
public sealed class RamRegion(ulong offset, ulong length)
{
    /// <summary>Where the region starts in its block (bytes).</summary>
    public ulong Offset { get; } = offset;

    /// <summary>The region's size in bytes, whole pages (the last region of a block may be shorter).</summary>
    public ulong Length { get; } = length;

    /// <summary>Times a page of the region was sent as a ZERO record.</summary>
    public long ZeroSends { get; internal set; }

    /// <summary>Times a page of the region was sent whole.</summary>
    public long NormalSends { get; internal set; }

    /// <summary>Times a page of the region was sent as an XBZRLE delta.</summary>
    public long XbzrleSends { get; internal set; }

    /// <summary>Times a page of the region was sent zlib-compressed.</summary>
    public long CompressedSends { get; internal set; }

    /// <summary>mapped-ram pages present in the file (each is written once).</summary>
    public long MappedSends { get; internal set; }

    /// <summary>Every time a page of the region was sent, whatever its encoding.</summary>
    public long Sends => ZeroSends + NormalSends + XbzrleSends + CompressedSends + MappedSends;

    /// <summary>Distinct pages of the region sent at least once.</summary>
    public long PagesSent { get; internal set; }

    /// <summary>The most times any one page of the region was sent (re-dirtied pages are sent again each round), up to 255.</summary>
    public int MostSendsOfOnePage { get; internal set; }
}

/// <summary>
/// A RAM block cut into at most <see cref="StreamProfiler.MaxRegionsPerBlock"/> equal regions of
/// whole pages, each counting the pages sent into it: where the guest kept dirtying memory.
/// </summary>
/// <remarks>
/// How often each page was sent is kept in one byte a page for blocks up to
/// <see cref="DensePageLimit"/> pages; a larger block (whose length the stream states, so it may
/// lie) keeps only the pages actually sent, so memory grows with the stream, not with the claim.
/// </remarks>
public sealed class RamBlockMap
{
    /// <summary>Blocks of up to this many pages (64 GiB of 4 KiB pages) count sends in a flat array of 16 MiB at most.</summary>
    public const long DensePageLimit = 1L << 24;

    private readonly byte[]? _dense;
    private readonly Dictionary<long, byte>? _sparse;
    private readonly long _pages;

    internal RamBlockMap(string name, ulong usedLength, int pageSize, int maxRegions)
    {
        Name = name;
        UsedLength = usedLength;
        PageSize = pageSize;
        _pages = (long)Math.Min((usedLength / (ulong)pageSize) + (usedLength % (ulong)pageSize == 0 ? 0UL : 1UL), long.MaxValue / 2);
        PagesPerRegion = Math.Max(1, (_pages + maxRegions - 1) / maxRegions);
        if (_pages <= DensePageLimit)
        {
            _dense = new byte[_pages];
        }
        else
        {
            _sparse = [];
        }

        var regions = new RamRegion[(_pages + PagesPerRegion - 1) / PagesPerRegion];
        for (var i = 0; i < regions.Length; i++)
        {
            var start = (ulong)(i * PagesPerRegion) * (ulong)pageSize;
            regions[i] = new RamRegion(start, Math.Min((ulong)PagesPerRegion * (ulong)pageSize, usedLength - start));
        }

        Regions = regions;
    }

    /// <summary>The RAM block's name, e.g. <c>pc.ram</c>.</summary>
    public string Name { get; }

    /// <summary>The block's used length as the block list announced it, in bytes.</summary>
    public ulong UsedLength { get; }

    /// <summary>The page size the block's pages were counted in, in bytes.</summary>
    public int PageSize { get; }

    /// <summary>How many pages each region covers, so a region index maps back to an offset.</summary>
    public long PagesPerRegion { get; }

    /// <summary>The regions in address order, covering the whole block.</summary>
    public IReadOnlyList<RamRegion> Regions { get; }

    internal RamRegion? Count(ulong offset)
    {
        var page = (long)Math.Min(offset / (ulong)PageSize, long.MaxValue);
        if (page >= _pages)
        {
            return null;
        }

        var region = Regions[(int)(page / PagesPerRegion)];
        int sends;
        if (_dense is not null)
        {
            sends = _dense[page] = (byte)Math.Min(byte.MaxValue, _dense[page] + 1);
        }
        else
        {
            sends = _sparse![page] = (byte)Math.Min(byte.MaxValue, _sparse.GetValueOrDefault(page) + 1);
        }

        if (sends == 1)
        {
            region.PagesSent++;
        }

        region.MostSendsOfOnePage = Math.Max(region.MostSendsOfOnePage, sends);
        return region;
    }
}
