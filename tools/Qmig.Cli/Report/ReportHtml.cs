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

    /// <summary>Compact, as the page only parses it.</summary>
    private static string Data(IReadOnlyList<(string File, StreamProfile Profile)> streams, IReadOnlyList<PostcopyProfile> postcopy)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(json, ReportData.Of(streams, postcopy), CliJson.Default.ReportData);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
