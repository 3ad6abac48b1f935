using System.Text.Json;
using Qmig.Wire.PythonJson;

namespace Qmig.Cli.Diff;

/// <summary>
/// The report for tools: <c>equal</c>, then <c>devices</c> and <c>ram</c>, each listing only what
/// differs. Offsets and lengths are numbers; field values are as state.json shows them.
/// </summary>
internal static class DiffJsonRenderer
{
    public static void Write(DiffReport report, TextWriter output)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            Write(report, json);
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void Write(DiffReport report, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("a", report.A);
        json.WriteString("b", report.B);
        json.WriteBoolean("equal", report.IsEqual);
        json.WriteStartArray("devices");
        foreach (var device in report.Devices)
        {
            json.WriteStartObject();
            json.WriteString("idstr", device.Idstr);
            json.WriteNumber("instance", device.Instance);
            json.WriteString("status", Status(device.Presence));
            if (device.Versions is var (va, vb))
            {
                json.WriteStartObject("version");
                json.WriteNumber("a", va);
                json.WriteNumber("b", vb);
                json.WriteEndObject();
            }

            if (device.Presence == DiffPresence.Both && device.Body is null)
            {
                json.WriteStartArray("fields");
                foreach (var field in device.Fields)
                {
                    json.WriteStartObject();
                    json.WriteString("path", field.Path);
                    if (field.A is not null)
                    {
                        json.WritePropertyName("a");
                        WriteValue(json, field.A);
                    }

                    if (field.B is not null)
                    {
                        json.WritePropertyName("b");
                        WriteValue(json, field.B);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            if (device.Body is { } body)
            {
                json.WriteStartObject("body");
                json.WriteNumber("first_offset", body.FirstOffset);
                json.WriteNumber("differing_bytes", body.DifferingBytes);
                json.WriteNumber("length_a", body.LengthA);
                json.WriteNumber("length_b", body.LengthB);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("ram");
        foreach (var ram in report.Ram)
        {
            json.WriteStartObject();
            json.WriteString("block", ram.Block);
            json.WriteString("status", Status(ram.Presence));
            if (ram.LengthA is ulong la)
            {
                json.WriteNumber("length_a", la);
            }

            if (ram.LengthB is ulong lb)
            {
                json.WriteNumber("length_b", lb);
            }

            if (ram.Presence == DiffPresence.Both)
            {
                json.WriteNumber("pages", ram.Pages);
                json.WriteStartArray("ranges");
                foreach (var range in ram.Ranges)
                {
                    json.WriteStartObject();
                    json.WriteNumber("offset", range.Start);
                    json.WriteNumber("length", range.Length);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Status(DiffPresence presence) => presence switch
    {
        DiffPresence.OnlyInA => "only_in_a",
        DiffPresence.OnlyInB => "only_in_b",
        _ => "differs",
    };

    private static void WriteValue(Utf8JsonWriter json, PyValue value)
    {
        switch (value)
        {
            case PyObject o:
                json.WriteStartObject();
                foreach (var (key, item) in o.Items)
                {
                    json.WritePropertyName(key);
                    WriteValue(json, item);
                }

                json.WriteEndObject();
                break;
            case PyList l:
                json.WriteStartArray();
                foreach (var item in l.Items)
                {
                    WriteValue(json, item);
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
