using System.Reflection;
using System.Text;
using System.Text.Json;
using Qmig.Cli.Output;
using Qmig.Wire.Analysis;

namespace Qmig.Cli.Report;

/// <summary>
/// Writes <c>qmig report</c>'s single HTML file: the profiles as JSON, Chart.js and the drawing
/// script inlined, so that it opens offline and fetches nothing.
/// </summary>
internal static class ReportHtml
{
    public static void Write(Stream output, IReadOnlyList<(string File, StreamProfile Profile)> streams, IReadOnlyList<PostcopyProfile> postcopy)
    {
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        writer.Write("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
            <title>qmig report</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1200px; }
            h2 { border-bottom: 2px solid #3182bd; padding-bottom: .2em; word-break: break-all; }
            .chart { position: relative; width: 100%; margin: .5em 0 1em; }
            table { border-collapse: collapse; margin: .5em 0 1.5em; font-size: 12px; }
            th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
            th { background: #f0f0f0; }
            .note { color: #555; font-size: 12px; }
            </style></head><body>
            <h1>qmig report</h1>
            <div id="report"></div>
            <script type="application/json" id="qmig-data">
            """);
        writer.Write(Inline(Data(streams, postcopy)));
        writer.Write("</script>\n<script>\n");
        writer.Write(Inline(Resource("chart.umd.min.js")));
        writer.Write("\n</script>\n<script>\n");
        writer.Write(Inline(Resource("report.js")));
        writer.Write("\n</script>\n</body></html>\n");
    }

    /// <summary>Text placed inside a script element must not close it early.</summary>
    public static string Inline(string script) => script.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase)
        .Replace("<!--", "<\\!--", StringComparison.Ordinal);

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Qmig.Cli.Report." + name)
            ?? throw new InvalidOperationException($"qmig was built without its {name} resource");
        return new StreamReader(stream, Encoding.UTF8).ReadToEnd();
    }

    private static string Data(IReadOnlyList<(string File, StreamProfile Profile)> streams, IReadOnlyList<PostcopyProfile> postcopy)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("streams");
            foreach (var (file, profile) in streams)
            {
                WriteStream(json, file, profile);
            }

            json.WriteEndArray();
            json.WriteStartArray("postcopy");
            foreach (var p in postcopy)
            {
                PostcopyJson.Write(json, p);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteStream(Utf8JsonWriter json, string file, StreamProfile profile)
    {
        json.WriteStartObject();
        json.WriteString("file", file);
        json.WriteNumber("length", profile.Length);
        json.WriteBoolean("complete", profile.IsComplete);
        if (profile.Error is { } error)
        {
            json.WriteString("error", error.Format(file));
        }

        json.WriteNumber("page_size", profile.TargetPageSize);
        json.WriteNumber("iterations", profile.Rounds.Count(r => r.Kind == RamRoundKind.Iteration));
        json.WriteStartArray("rounds");
        foreach (var round in profile.Rounds)
        {
            JsonSerializer.Serialize(json, RoundEntry.Of(round), CliJson.Default.RoundEntry);
        }

        json.WriteEndArray();
        json.WriteStartArray("blocks");
        foreach (var block in profile.Blocks)
        {
            json.WriteStartObject();
            json.WriteString("name", block.Name);
            json.WriteNumber("used_length", block.UsedLength);
            json.WriteNumber("pages_per_region", block.PagesPerRegion);
            json.WriteStartArray("regions");
            foreach (var region in block.Regions)
            {
                json.WriteStartObject();
                json.WriteNumber("offset", region.Offset);
                json.WriteNumber("length", region.Length);
                json.WriteNumber("zero", region.ZeroSends);
                json.WriteNumber("normal", region.NormalSends);
                json.WriteNumber("xbzrle", region.XbzrleSends);
                json.WriteNumber("compressed", region.CompressedSends);
                json.WriteNumber("mapped", region.MappedSends);
                json.WriteNumber("pages_sent", region.PagesSent);
                json.WriteNumber("most_sends", region.MostSendsOfOnePage);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("devices");
        foreach (var device in profile.Devices)
        {
            json.WriteStartObject();
            json.WriteString("idstr", device.Idstr);
            json.WriteNumber("instance", device.InstanceId);
            json.WriteNumber("version", device.VersionId);
            json.WriteNumber("id", device.SectionId);
            json.WriteNumber("offset", device.Offset);
            json.WriteNumber("size", device.BodyLength);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("commands");
        foreach (var command in profile.Commands)
        {
            json.WriteStartObject();
            json.WriteString("name", command.Name);
            json.WriteNumber("offset", command.Offset);
            json.WriteNumber("length", command.Length);
            json.WriteNumber("depth", command.Depth);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
