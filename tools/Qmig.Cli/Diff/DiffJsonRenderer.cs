using System.Text.Json;
using System.Text.Json.Serialization;
using Qmig.Cli.Output;
using Qmig.Wire.Comparison;
using Qmig.Wire.PythonJson;

namespace Qmig.Cli.Diff;

/// <summary>
/// The report for tools: <c>equal</c>, then <c>devices</c> and <c>ram</c>, each listing only what
/// differs. Offsets and lengths are numbers; field values are as state.json shows them.
/// </summary>
internal static class DiffJsonRenderer
{
    public static void Write(DiffReport report, TextWriter output) =>
        output.WriteLine(JsonSerializer.Serialize(DiffDocument.Of(report), CliJson.Default.DiffDocument));
}

/// <summary>What <c>diff --format json</c> prints, in its order; <see cref="CliJson"/> writes it.</summary>
internal sealed record DiffDocument(string A, string B, bool Equal, IReadOnlyList<DeviceDiffEntry> Devices, IReadOnlyList<RamDiffEntry> Ram)
{
    public static DiffDocument Of(DiffReport report) => new(
        report.A,
        report.B,
        report.IsEqual,
        [.. report.Devices.Select(d => new DeviceDiffEntry(
            d.Idstr,
            d.Instance,
            Status(d.Presence),
            d.Versions is var (a, b) ? new VersionPair(a, b) : null,
            d.Presence == DiffPresence.Both && d.Body is null ? [.. d.Fields.Select(f => new FieldDiffEntry(f.Path, f.A, f.B))] : null,
            d.Body))],
        [.. report.Ram.Select(r => new RamDiffEntry(
            r.Block,
            Status(r.Presence),
            r.LengthA,
            r.LengthB,
            r.Presence == DiffPresence.Both ? r.Pages : null,
            r.Presence == DiffPresence.Both ? [.. r.Ranges.Select(range => new RangeEntry(range.Start, range.Length))] : null))]);

    private static string Status(DiffPresence presence) => presence switch
    {
        DiffPresence.OnlyInA => "only_in_a",
        DiffPresence.OnlyInB => "only_in_b",
        _ => "differs",
    };
}

internal sealed record DeviceDiffEntry(string Idstr, uint Instance, string Status, VersionPair? Version, IReadOnlyList<FieldDiffEntry>? Fields, BodyDifference? Body);

/// <summary>A <see cref="FieldDifference"/> with its values as state.json shows them.</summary>
internal sealed record FieldDiffEntry(
    string Path,
    [property: JsonConverter(typeof(PyValueJsonConverter))] PyValue? A,
    [property: JsonConverter(typeof(PyValueJsonConverter))] PyValue? B);

internal sealed record VersionPair(uint A, uint B);

internal sealed record RamDiffEntry(string Block, string Status, ulong? LengthA, ulong? LengthB, long? Pages, IReadOnlyList<RangeEntry>? Ranges);

internal sealed record RangeEntry(ulong Offset, ulong Length);

/// <summary>A state.json value as the analyzer prints it: numbers stay the strings it shows (hex, or Python's repr).</summary>
internal sealed class PyValueJsonConverter : JsonConverter<PyValue>
{
    public override PyValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("diff reports are written, never read");

    public override void Write(Utf8JsonWriter json, PyValue value, JsonSerializerOptions options)
    {
        switch (value)
        {
            case PyObject o:
                json.WriteStartObject();
                foreach (var (key, item) in o.Items)
                {
                    json.WritePropertyName(key);
                    Write(json, item, options);
                }

                json.WriteEndObject();
                break;
            case PyList l:
                json.WriteStartArray();
                foreach (var item in l.Items)
                {
                    Write(json, item, options);
                }

                json.WriteEndArray();
                break;
            case PyString s:
                json.WriteStringValue(s.Value);
                break;
            case PyBool b:
                json.WriteBooleanValue(b.Value);
                break;
            case PyNumber n:
                json.WriteStringValue(n.Repr);
                break;
            default:
                json.WriteNullValue();
                break;
        }
    }
}
