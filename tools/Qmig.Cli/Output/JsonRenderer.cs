using System.Text.Json;

namespace Qmig.Cli.Output;

/// <summary>
/// JSON with stable key order: offset, length, type, depth, section_id, then the record's fields.
/// As one document (an array under "records") or as JSON lines, one record per line for jq.
/// </summary>
internal sealed class JsonRenderer : IRecordRenderer
{
    private readonly Stream _output;
    private readonly bool _lines;
    private readonly Utf8JsonWriter _writer;

    public JsonRenderer(Stream output, bool lines, string file)
    {
        _output = output;
        _lines = lines;
        _writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = !lines, SkipValidation = lines });
        if (!lines)
        {
            _writer.WriteStartObject();
            _writer.WriteString("file", file);
            _writer.WriteStartArray("records");
        }
    }

    public void Write(RecordFields record)
    {
        _writer.WriteStartObject();
        _writer.WriteNumber("offset", record.Offset);
        _writer.WriteNumber("length", record.Length);
        _writer.WriteString("type", record.Type);
        _writer.WriteNumber("depth", record.Depth);
        if (record.SectionId != 0 || record.Type.StartsWith("SECTION", StringComparison.Ordinal))
        {
            _writer.WriteNumber("section_id", record.SectionId);
        }

        foreach (var (key, value) in record.Fields)
        {
            _writer.WritePropertyName(key);
            WriteValue(_writer, value);
        }

        if (record.Raw is not null)
        {
            _writer.WriteString("hex", Convert.ToHexStringLower(record.Raw));
        }

        _writer.WriteEndObject();
        if (_lines)
        {
            _writer.Flush();
            _output.WriteByte((byte)'\n');
            _writer.Reset();
        }
    }

    public static void WriteValue(Utf8JsonWriter writer, object value)
    {
        switch (value)
        {
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case Hex h:
                writer.WriteNumberValue(h.Value);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case ulong u:
                writer.WriteNumberValue(u);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case uint ui:
                writer.WriteNumberValue(ui);
                break;
            case IEnumerable<string> list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    writer.WriteStringValue(item);
                }

                writer.WriteEndArray();
                break;
            case IEnumerable<KeyValuePair<string, object>> map:
                writer.WriteStartObject();
                foreach (var (k, v) in map)
                {
                    writer.WritePropertyName(k);
                    WriteValue(writer, v);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable<object> items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(value.ToString());
                break;
        }
    }

    public void Finish(string? error)
    {
        if (!_lines)
        {
            _writer.WriteEndArray();
            if (error is not null)
            {
                _writer.WriteString("error", error);
            }

            _writer.WriteEndObject();
            _writer.Flush();
            _output.WriteByte((byte)'\n');
        }

        _writer.Flush();
        _output.Flush();
    }

    public void Dispose() => _writer.Dispose();
}
