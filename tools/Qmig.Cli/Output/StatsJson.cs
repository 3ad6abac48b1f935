using System.Text.Json.Serialization;
using Qmig.Wire.Analysis;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Output;

/// <summary>What <c>stats --format json</c> prints, in its order; <see cref="CliJson"/> writes it.</summary>
internal sealed record StatsDocument(
    string File,
    long? Size,
    long Consumed,
    bool Complete,
    string? Error,
    IReadOnlyDictionary<string, long> Records,
    IReadOnlyList<SectionEntry> Sections,
    IReadOnlyDictionary<string, long> Commands,
    RamSummary Ram,
    int Iterations,
    IReadOnlyList<RoundEntry> Rounds,
    IReadOnlyDictionary<string, MappedRamEntry>? MappedRam)
{
    public static StatsDocument Of(InputFile file, MigrationStreamReader reader, StreamCounts stats, IEnumerable<(string Name, long Count)> flags) => new(
        file.Name,
        file.Length,
        reader.Position,
        reader.IsCompleted,
        reader.Error?.Format(file.Name),
        Sorted(stats.Records),
        [.. stats.Sections.Select(s => new SectionEntry(s.Id, s.Idstr, s.InstanceId, s.VersionId))],
        Sorted(stats.Commands),
        new RamSummary(
            reader.TargetPageSize,
            stats.RamRecords,
            ByName(stats.Blocks.Select(b => (b.Name, new BlockEntry(b.UsedLength, stats.PagesIn(b))))),
            ByName(flags)),
        stats.Rounds.Iterations,
        [.. stats.Rounds.Rounds.Select(RoundEntry.Of)],
        // Same shape as tests/data/*/expected-counts.json's mapped_ram.
        stats.MappedRam.Count == 0 ? null : ByName(stats.MappedRam.Select(m => (m.Block.Name,
            new MappedRamEntry(m.BitmapOffset, m.BitmapBytes, m.PagesOffset, m.PagesPresent, m.BytesRead / reader.TargetPageSize)))));

    private static Dictionary<string, long> Sorted(IReadOnlyDictionary<string, long> counts) =>
        ByName(counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value)));

    /// <summary>An object keyed by name in the given order; a name seen again (only a damaged stream repeats one) keeps its first value.</summary>
    private static Dictionary<string, T> ByName<T>(IEnumerable<(string Name, T Value)> entries)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var (name, value) in entries)
        {
            map.TryAdd(name, value);
        }

        return map;
    }
}

internal sealed record SectionEntry(
    uint Id,
    string Idstr,
    [property: JsonPropertyName("instance")] uint InstanceId,
    [property: JsonPropertyName("version")] uint VersionId);

internal sealed record RamSummary(int PageSize, long Records, IReadOnlyDictionary<string, BlockEntry> Blocks, IReadOnlyDictionary<string, long> Flags);

internal sealed record BlockEntry(ulong UsedLength, long Pages);

internal sealed record MappedRamEntry(ulong BitmapOffset, int BitmapBytes, ulong PagesOffset, long PagesPresent, long PagesRead);

/// <summary>One <see cref="RamRound"/>: the shape of <c>stats --format json</c>'s rounds, which the report embeds too.</summary>
internal sealed record RoundEntry(
    string Round,
    string Section,
    string Phase,
    long Offset,
    long End,
    bool Eos,
    long Pages,
    long ZeroPages,
    long NormalPages,
    long XbzrlePages,
    long XbzrleBytes,
    long CompressedPages,
    long MappedPages)
{
    public static RoundEntry Of(RamRound round) => new(
        round.Label, round.SectionName, round.Postcopy ? "postcopy" : "precopy", round.StartOffset, round.EndOffset, round.EndsAtEos,
        round.Pages, round.ZeroPages, round.NormalPages, round.XbzrlePages, round.XbzrleBytes, round.CompressedPages, round.MappedPages);
}
