using Qmig.Postcopy.Destination;
using Qmig.Wire.Analysis;

namespace Qmig.Cli.Output;

/// <summary>What <c>receive --stats</c> writes, in its order; <see cref="CliJson"/> writes it.</summary>
internal sealed record ReceiveStatsDocument(
    ReceivePages Pages,
    long Faults,
    long PageRequests,
    long PageRequestsWithId,
    long PagesRequestedAhead,
    long Pongs,
    // From the first fault on a page to its placement, as QEMU's fault thread times it for
    // postcopy-blocktime; and the stalls as the vCPU threads themselves saw them.
    [property: System.Text.Json.Serialization.JsonPropertyName("fault_to_placed_us")] Distribution FaultToPlacedUs,
    [property: System.Text.Json.Serialization.JsonPropertyName("vcpu_stall_us")] Distribution VcpuStallUs,
    ReceiveBytes Bytes,
    ReceiveRecovery Recovery,
    RequestTimeline RequestedPagesTimeline,
    IReadOnlyDictionary<string, double> SecondsInState)
{
    public static ReceiveStatsDocument Of(DestinationStats stats) => new(
        new ReceivePages(stats.PrecopyPages, stats.PrecopyZeroPages, stats.PostcopyBackgroundPages, stats.PostcopyRequestedPages,
            stats.PostcopyAheadPages, stats.PostcopyDuplicatePages, stats.Discarded, stats.PreemptChannelPages),
        stats.Faults,
        stats.PageRequests,
        stats.PageRequestsWithId,
        stats.PagesRequestedAhead,
        stats.Pongs,
        Distribution.Of(stats.FaultToPlacedMicroseconds),
        Distribution.Of(stats.VcpuStallMicroseconds),
        new ReceiveBytes(stats.BytesReceived, stats.BytesSent),
        new ReceiveRecovery(stats.Pauses, stats.SecondsPaused),
        new RequestTimeline(
            "seconds since the destination started",
            [.. stats.RequestedPageTimes.Select(t => Math.Round(t.FaultedSeconds, 6))],
            [.. stats.RequestedPageTimes.Select(t => Math.Round(t.PlacedSeconds, 6))]),
        stats.SecondsInState);
}

internal sealed record ReceivePages(long Precopy, long PrecopyZero, long PostcopyBackground, long PostcopyRequested, long PostcopyAhead, long PostcopyDuplicate, long Discarded, long PreemptChannel);

/// <summary>A latency distribution: count, p50, p99, max, total, and power-of-two buckets, enough to draw it without every sample.</summary>
internal sealed record Distribution(int Count, double P50, double P99, double Max, double Total, IReadOnlyList<HistogramEntry> Histogram)
{
    public static Distribution Of(List<double> samples) => new(
        samples.Count,
        DestinationStats.Percentile(samples, 0.50),
        DestinationStats.Percentile(samples, 0.99),
        samples.Count == 0 ? 0 : samples.Max(),
        Math.Round(samples.Sum(), 1),
        [.. PostcopyProfile.PowerOfTwoBuckets(samples).Select(b => new HistogramEntry(b.UpperBound, b.Count))]);
}

internal sealed record HistogramEntry(double Le, long Count);

internal sealed record ReceiveBytes(long Received, long Sent);

internal sealed record ReceiveRecovery(int Pauses, double SecondsPaused);

internal sealed record RequestTimeline(
    string Origin,
    [property: System.Text.Json.Serialization.JsonPropertyName("faulted_s")] IReadOnlyList<double> FaultedS,
    [property: System.Text.Json.Serialization.JsonPropertyName("placed_s")] IReadOnlyList<double> PlacedS);
