namespace Qmig.Wire.Analysis;

/// <summary>One region of a RAM block: how often its pages travelled, and as what.</summary>
public sealed class RamRegion(ulong offset, ulong length)
{
    /// <summary>Where the region starts in its block (bytes).</summary>
    public ulong Offset { get; } = offset;

    public ulong Length { get; } = length;

    public long ZeroSends { get; internal set; }

    public long NormalSends { get; internal set; }

    public long XbzrleSends { get; internal set; }

    public long CompressedSends { get; internal set; }

    /// <summary>mapped-ram pages present in the file (each is written once).</summary>
    public long MappedSends { get; internal set; }

    /// <summary>Every time a page of the region was sent, whatever its encoding.</summary>
    public long Sends => ZeroSends + NormalSends + XbzrleSends + CompressedSends + MappedSends;

    /// <summary>Distinct pages of the region sent at least once.</summary>
    public long PagesSent { get; internal set; }

    /// <summary>The most times any one page of the region was sent (re-dirtied pages are sent again each round).</summary>
    public int MostSendsOfOnePage { get; internal set; }
}

/// <summary>
/// A RAM block cut into at most <see cref="StreamProfiler.MaxRegionsPerBlock"/> equal regions of
/// whole pages, each counting the pages sent into it: where the guest kept dirtying memory.
/// </summary>
public sealed class RamBlockMap
{
    private readonly byte[] _sendsPerPage;

    internal RamBlockMap(string name, ulong usedLength, int pageSize, int maxRegions)
    {
        Name = name;
        UsedLength = usedLength;
        PageSize = pageSize;
        var pages = (long)((usedLength + (ulong)pageSize - 1) / (ulong)pageSize);
        PagesPerRegion = Math.Max(1, (pages + maxRegions - 1) / maxRegions);
        _sendsPerPage = new byte[pages];
        var regions = new RamRegion[(pages + PagesPerRegion - 1) / PagesPerRegion];
        for (var i = 0; i < regions.Length; i++)
        {
            var start = (ulong)(i * PagesPerRegion) * (ulong)pageSize;
            regions[i] = new RamRegion(start, Math.Min((ulong)PagesPerRegion * (ulong)pageSize, usedLength - start));
        }

        Regions = regions;
    }

    public string Name { get; }

    public ulong UsedLength { get; }

    public int PageSize { get; }

    public long PagesPerRegion { get; }

    public IReadOnlyList<RamRegion> Regions { get; }

    internal RamRegion? Count(ulong offset, out bool firstSend)
    {
        firstSend = false;
        var page = (long)(offset / (ulong)PageSize);
        if (page >= _sendsPerPage.Length)
        {
            return null;
        }

        var region = Regions[(int)(page / PagesPerRegion)];
        ref var sends = ref _sendsPerPage[page];
        firstSend = sends == 0;
        if (sends < byte.MaxValue)
        {
            sends++;
        }

        if (firstSend)
        {
            region.PagesSent++;
        }

        region.MostSendsOfOnePage = Math.Max(region.MostSendsOfOnePage, sends);
        return region;
    }
}
