using System.Text.Json;
using Qmig.Wire.Analysis;

namespace Qmig.Cli.Report;

/// <summary>A <see cref="PostcopyProfile"/> in the shape report.js draws.</summary>
internal static class PostcopyJson
{
    public static void Write(Utf8JsonWriter json, PostcopyProfile profile)
    {
        json.WriteStartObject();
        json.WriteString("file", profile.Name);
        json.WriteStartArray("series");
        foreach (var series in profile.Series)
        {
            json.WriteStartObject();
            json.WriteString("name", series.Name);
            json.WriteString("axis", series.Axis);
            json.WriteStartArray("points");
            foreach (var (x, count) in series.Points)
            {
                json.WriteStartObject();
                json.WriteNumber("x", x);
                json.WriteNumber("y", count);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("distributions");
        foreach (var d in profile.Distributions)
        {
            json.WriteStartObject();
            json.WriteString("name", d.Name);
            json.WriteNumber("count", d.Count);
            json.WriteNumber("p50", d.P50);
            json.WriteNumber("p99", d.P99);
            json.WriteNumber("max", d.Max);
            json.WriteStartArray("buckets");
            foreach (var bucket in d.Buckets)
            {
                json.WriteStartObject();
                json.WriteNumber("le", bucket.UpperBound);
                json.WriteNumber("count", bucket.Count);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("states");
        foreach (var state in profile.States)
        {
            json.WriteStartObject();
            json.WriteString("state", state.State);
            json.WriteNumber("seconds", state.Seconds);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("counts");
        foreach (var count in profile.Counts)
        {
            json.WriteStartObject();
            json.WriteString("name", count.Name);
            json.WriteNumber("value", count.Value);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
