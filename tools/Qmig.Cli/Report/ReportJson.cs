using Qmig.Wire.Analysis;

namespace Qmig.Cli.Report;

/// <summary>The data <c>qmig report</c> embeds in its page, in the shape report.js draws; <see cref="Output.CliJson"/> writes it.</summary>
internal sealed record ReportData(IReadOnlyList<ReportStream> Streams, IReadOnlyList<ReportPostcopy> Postcopy)
{
    public static ReportData Of(IReadOnlyList<(string File, StreamProfile Profile)> streams, IReadOnlyList<PostcopyProfile> postcopy) =>
        new([.. streams.Select(s => ReportStream.Of(s.File, s.Profile))], [.. postcopy.Select(ReportPostcopy.Of)]);
}

/// <summary>One stream's profile: where its RAM was sent, round by round and region by region, and its device sections and commands.</summary>
internal sealed record ReportStream(
    string File,
    long Length,
    bool Complete,
    string? Error,
    int PageSize,
    int Iterations,
    IReadOnlyList<Output.RoundEntry> Rounds,
    IReadOnlyList<ReportBlock> Blocks,
    IReadOnlyList<ReportDevice> Devices,
    IReadOnlyList<ReportCommand> Commands)
{
    public static ReportStream Of(string file, StreamProfile profile) => new(
        file,
        profile.Length,
        profile.IsComplete,
        profile.Error?.Format(file),
        profile.TargetPageSize,
        profile.Rounds.Count(r => r.Kind == RamRoundKind.Iteration),
        [.. profile.Rounds.Select(Output.RoundEntry.Of)],
        [.. profile.Blocks.Select(b => new ReportBlock(b.Name, b.UsedLength, b.PagesPerRegion,
            [.. b.Regions.Select(r => new ReportRegion(r.Offset, r.Length, r.ZeroSends, r.NormalSends, r.XbzrleSends, r.CompressedSends, r.MappedSends, r.PagesSent, r.MostSendsOfOnePage))]))],
        [.. profile.Devices.Select(d => new ReportDevice(d.Idstr, d.InstanceId, d.VersionId, d.SectionId, d.Offset, d.BodyLength))],
        [.. profile.Commands.Select(c => new ReportCommand(c.Name, c.Offset, c.Length, c.Depth))]);
}

internal sealed record ReportBlock(string Name, ulong UsedLength, long PagesPerRegion, IReadOnlyList<ReportRegion> Regions);

/// <summary>Sends into one region of a block, by kind of record.</summary>
internal sealed record ReportRegion(
    ulong Offset,
    ulong Length,
    [property: System.Text.Json.Serialization.JsonPropertyName("zero")] long ZeroSends,
    [property: System.Text.Json.Serialization.JsonPropertyName("normal")] long NormalSends,
    [property: System.Text.Json.Serialization.JsonPropertyName("xbzrle")] long XbzrleSends,
    [property: System.Text.Json.Serialization.JsonPropertyName("compressed")] long CompressedSends,
    [property: System.Text.Json.Serialization.JsonPropertyName("mapped")] long MappedSends,
    long PagesSent,
    [property: System.Text.Json.Serialization.JsonPropertyName("most_sends")] int MostSendsOfOnePage);

internal sealed record ReportDevice(
    string Idstr,
    [property: System.Text.Json.Serialization.JsonPropertyName("instance")] uint InstanceId,
    [property: System.Text.Json.Serialization.JsonPropertyName("version")] uint VersionId,
    [property: System.Text.Json.Serialization.JsonPropertyName("id")] uint SectionId,
    long Offset,
    [property: System.Text.Json.Serialization.JsonPropertyName("size")] int BodyLength);

internal sealed record ReportCommand(string Name, long Offset, int Length, int Depth);

/// <summary>A <see cref="PostcopyProfile"/>: its timelines, latency distributions, time per state and counts.</summary>
internal sealed record ReportPostcopy(
    string File,
    IReadOnlyList<ReportSeries> Series,
    IReadOnlyList<ReportDistribution> Distributions,
    IReadOnlyList<ReportState> States,
    IReadOnlyList<ReportCount> Counts)
{
    public static ReportPostcopy Of(PostcopyProfile profile) => new(
        profile.Name,
        [.. profile.Series.Select(s => new ReportSeries(s.Name, s.Axis, [.. s.Points.Select(p => new ReportPoint(p.X, p.Count))]))],
        [.. profile.Distributions.Select(d => new ReportDistribution(d.Name, d.Count, d.P50, d.P99, d.Max,
            [.. d.Buckets.Select(b => new Output.HistogramEntry(b.UpperBound, b.Count))]))],
        [.. profile.States.Select(s => new ReportState(s.State, s.Seconds))],
        [.. profile.Counts.Select(c => new ReportCount(c.Name, c.Value))]);
}

internal sealed record ReportSeries(string Name, string Axis, IReadOnlyList<ReportPoint> Points);

/// <summary>A point of a timeline: a time or stream offset, and a count of pages by then.</summary>
internal sealed record ReportPoint(double X, long Y);

internal sealed record ReportDistribution(string Name, long Count, double P50, double P99, double Max, IReadOnlyList<Output.HistogramEntry> Buckets);

internal sealed record ReportState(string State, double Seconds);

internal sealed record ReportCount(string Name, double Value);
