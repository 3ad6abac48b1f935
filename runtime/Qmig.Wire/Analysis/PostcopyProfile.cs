using System.Text.Json;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Analysis;

/// <summary>A named number of a postcopy stats file (its path of keys, e.g. <c>pages.precopy</c>).</summary>
public sealed record PostcopyCount(string Name, double Value);

/// <summary>A histogram bucket: samples at most <paramref name="UpperBound"/> and above the previous bucket's bound.</summary>
public sealed record HistogramBucket(double UpperBound, long Count);

/// <summary>A latency distribution (microseconds) as a stats file gives it: count, percentiles and a histogram.</summary>
public sealed record LatencyDistribution(string Name, long Count, double P50, double P99, double Max, IReadOnlyList<HistogramBucket> Buckets);

/// <summary>Seconds spent in one postcopy (or migration) state.</summary>
public sealed record StateTime(string State, double Seconds);

/// <summary>A cumulative count over an axis (seconds, or bytes of a return-path capture): one point per event.</summary>
public sealed record TimelineSeries(string Name, string Axis, IReadOnlyList<(double X, long Count)> Points);

/// <summary>
/// What a postcopy migration's destination (or source) reported: the stats JSON of
/// <c>qmig receive --stats</c> or any stats file read by its keys, and a captured return path.
/// </summary>
/// <remarks>
/// Keys are read generally, so that stats files from other writers work too: an object with
/// numeric <c>p50</c> and <c>p99</c> is a latency distribution (its <c>histogram</c> of
/// <c>{le, count}</c> or its <c>samples</c> give the buckets); an object whose key contains
/// <c>state</c> and whose values are all numbers is seconds per state; an array of numbers whose
/// key ends in <c>_s</c> is a list of event times in seconds; every other number is a count.
/// </remarks>
public sealed class PostcopyProfile
{
    private readonly List<PostcopyCount> _counts = [];
    private readonly List<LatencyDistribution> _distributions = [];
    private readonly List<StateTime> _states = [];
    private readonly List<TimelineSeries> _series = [];

    /// <summary>An empty profile labelled <paramref name="name"/> (usually the stats file's name), filled by the readers.</summary>
    public PostcopyProfile(string name) => Name = name;

    /// <summary>The label a report shows for this migration.</summary>
    public string Name { get; }

    /// <summary>Every plain number of the stats, by its path of keys.</summary>
    public IReadOnlyList<PostcopyCount> Counts => _counts;

    /// <summary>The latencies of the stats (e.g. request to placement), each with percentiles and buckets.</summary>
    public IReadOnlyList<LatencyDistribution> Distributions => _distributions;

    /// <summary>Seconds spent in each postcopy or migration state.</summary>
    public IReadOnlyList<StateTime> States => _states;

    /// <summary>Events over time from the stats (axis "seconds") and page requests along a return-path capture (axis "return-path offset").</summary>
    public IReadOnlyList<TimelineSeries> Series => _series;

    /// <summary>Reads a stats JSON document into the profile.</summary>
    public void AddStats(JsonElement stats) => Walk(stats, "");

    /// <summary>
    /// Reads a captured return path (destination to source) and adds the requested pages, cumulated
    /// along the capture. Returns the reader's error, or null when the capture was read to its end.
    /// </summary>
    public MigrationError? AddReturnPath(Stream capture, int targetPageSize = 4096)
    {
        var visitor = new RequestCounter(targetPageSize);
        var error = MigrationStreamDriver.Read(capture, new ReturnPathReader(), ref visitor);
        _series.Add(new TimelineSeries("requested pages (return path)", "return-path offset", visitor.Points));
        return error;
    }

    private void Walk(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in element.EnumerateObject())
        {
            var name = path.Length == 0 ? property.Name : path + "." + property.Name;
            var value = property.Value;
            switch (value.ValueKind)
            {
                case JsonValueKind.Number:
                    _counts.Add(new PostcopyCount(name, value.GetDouble()));
                    break;
                case JsonValueKind.Array when property.Name.EndsWith("_s", StringComparison.Ordinal) && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number):
                    var times = value.EnumerateArray().Select(v => v.GetDouble()).Order().ToArray();
                    _series.Add(new TimelineSeries(name, "seconds", times.Select((t, i) => (t, (long)i + 1)).ToArray()));
                    break;
                case JsonValueKind.Object when IsDistribution(value):
                    _distributions.Add(Distribution(name, value));
                    break;
                case JsonValueKind.Object when property.Name.Contains("state", StringComparison.OrdinalIgnoreCase)
                    && value.EnumerateObject().All(p => p.Value.ValueKind == JsonValueKind.Number):
                    _states.AddRange(value.EnumerateObject().Select(p => new StateTime(p.Name, p.Value.GetDouble())));
                    break;
                case JsonValueKind.Object:
                    Walk(value, name);
                    break;
            }
        }
    }

    private static bool IsDistribution(JsonElement value) =>
        value.TryGetProperty("p50", out var p50) && p50.ValueKind == JsonValueKind.Number
        && value.TryGetProperty("p99", out var p99) && p99.ValueKind == JsonValueKind.Number;

    private static double Number(JsonElement value, string key) =>
        value.TryGetProperty(key, out var n) && n.ValueKind == JsonValueKind.Number ? n.GetDouble() : 0;

    private static LatencyDistribution Distribution(string name, JsonElement value)
    {
        var buckets = new List<HistogramBucket>();
        if (value.TryGetProperty("histogram", out var histogram) && histogram.ValueKind == JsonValueKind.Array)
        {
            foreach (var bucket in histogram.EnumerateArray())
            {
                buckets.Add(new HistogramBucket(Number(bucket, "le"), (long)Number(bucket, "count")));
            }
        }
        else if (value.TryGetProperty("samples", out var samples) && samples.ValueKind == JsonValueKind.Array)
        {
            buckets.AddRange(PowerOfTwoBuckets(samples.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Number).Select(s => s.GetDouble())));
        }

        return new LatencyDistribution(name, (long)Number(value, "count"), Number(value, "p50"), Number(value, "p99"), Number(value, "max"), buckets);
    }

    /// <summary>Samples counted under the smallest power of two at or above them (1 at least).</summary>
    public static IReadOnlyList<HistogramBucket> PowerOfTwoBuckets(IEnumerable<double> samples)
    {
        var counts = new SortedDictionary<double, long>();
        foreach (var sample in samples)
        {
            var bound = Math.Pow(2, Math.Max(0, Math.Ceiling(Math.Log2(Math.Max(sample, 1)))));
            counts[bound] = counts.GetValueOrDefault(bound) + 1;
        }

        return counts.Select(c => new HistogramBucket(c.Key, c.Value)).ToArray();
    }

    private struct RequestCounter(int pageSize) : IReturnPathVisitor
    {
        private long _pages;

        public List<(double X, long Count)> Points { get; } = [];

        public void OnMessage(in RecordInfo record, in RpMessage message)
        {
            uint length;
            if (message.MsgType == MigRpMsg.ReqPagesId && message.TryReadPayloadAsReqPagesId(out var withId, out _, out _) == System.Buffers.OperationStatus.Done)
            {
                length = withId.Length;
            }
            else if (message.MsgType == MigRpMsg.ReqPages && message.TryReadPayloadAsReqPages(out var plain, out _, out _) == System.Buffers.OperationStatus.Done)
            {
                length = plain.Length;
            }
            else
            {
                return;
            }

            _pages += Math.Max(1, length / (uint)pageSize);
            Points.Add((record.Offset, _pages));
        }

        public readonly void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob)
        {
        }
    }
}
