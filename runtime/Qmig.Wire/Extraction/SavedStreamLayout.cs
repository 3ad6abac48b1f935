namespace Qmig.Wire.Extraction;

/// <summary>
/// What a saved stream holds, as offsets into its file: where each page's final copy lives, the
/// pages that had to be decoded, and the byte ranges of the configuration and the FULL sections.
/// The one pass over the stream builds it, an index file stores it, and <see cref="SavedStream"/>
/// serves a guest from it.
/// </summary>
internal sealed class SavedStreamLayout : IDisposable
{
    private DecodedPageStore? _decoded;

    public List<BlockPageIndex> Blocks { get; } = [];

    public int PageSize { get; set; }

    public string? MachineType { get; set; }

    public (long Start, long End) Configuration { get; set; }

    public List<(string Name, long Start, long End)> ConfigurationSubsections { get; } = [];

    public List<(long Start, long End)> EarlySetupSections { get; } = [];

    public List<(long Start, long End)> DeviceSections { get; } = [];

    public bool MappedRam { get; set; }

    /// <summary>Pages whose final content is in no one place of the file; made on first use, since most streams have none.</summary>
    public DecodedPageStore Decoded => _decoded ??= new DecodedPageStore(PageSize);

    /// <summary>Decoded-page slots handed out, including any freed since: an entry may name any slot below this.</summary>
    public long DecodedSlotCount => _decoded?.SlotCount ?? 0;

    public void Dispose()
    {
        foreach (var block in Blocks)
        {
            block.Dispose();
        }

        _decoded?.Dispose();
    }
}
