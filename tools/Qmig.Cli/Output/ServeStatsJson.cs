using System.Text.Json.Serialization;
using Qmig.Postcopy.Source;
using Qmig.Wire.Machines;

namespace Qmig.Cli.Output;

/// <summary>
/// What <c>serve --stats</c> writes, in its order; <see cref="CliJson"/> writes it. A figure that is
/// not known (no request, no SHUT yet) is written as null rather than left out, so a reader finds
/// every key.
/// </summary>
internal sealed record ServeStatsDocument(
    string Status,
    ServePages Pages,
    long Requests,
    long RequestsForSentPages,
    [property: JsonPropertyName("request_latency_us")] LatencyQuantiles RequestLatencyUs,
    ServeDiscards Discards,
    ServeBytes Bytes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? PackageLoadedMs,
    IReadOnlyDictionary<string, double> TimeInStatusMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] uint? Shut)
{
    public static ServeStatsDocument Of(PostcopySourceStats stats) => new(
        MigrationStatusSourceMachine.GetQemuName(stats.Status),
        new ServePages(stats.TotalPages, stats.PrecopyPages, stats.BackgroundPages, stats.RequestedPages, stats.ZeroPages, stats.PagesSentInPlace),
        stats.Requests,
        stats.RequestsForSentPages,
        new LatencyQuantiles(Microseconds(stats.RequestLatency(0.5)), Microseconds(stats.RequestLatency(0.99))),
        new ServeDiscards(stats.Discards.Commands, stats.Discards.Ranges, stats.Discards.Pages),
        new ServeBytes(stats.MainChannelBytes, stats.PreemptChannelBytes, stats.PackageBytes),
        stats.PackageLoadedAfter is { } loaded ? Math.Round(loaded.TotalMilliseconds, 1) : null,
        stats.TimeInStatus.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => Math.Round(p.Value.TotalMilliseconds, 1), StringComparer.Ordinal),
        stats.ShutStatus);

    private static double? Microseconds(TimeSpan? latency) => latency is { } value ? Math.Round(value.TotalMicroseconds) : null;
}

internal sealed record ServePages(long Total, long Precopy, long Background, long Requested, long Zero, long SentInPlace);

internal sealed record LatencyQuantiles(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? P50,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? P99);

internal sealed record ServeDiscards(long Commands, long Ranges, long Pages);

internal sealed record ServeBytes(long Main, long Preempt, long Package);
