using System.Text;

namespace Qmig.Cli.Output;

/// <summary>A tree like tshark -V: one line per record, offset first, fields as key=value; --hex adds hexdump -C rows.</summary>
internal sealed class TextRenderer(TextWriter output) : IRecordRenderer
{
    public void Write(RecordFields record)
    {
        var line = new StringBuilder();
        line.Append("0x").Append(record.Offset.ToString("x8")).Append(' ').Append(record.Length.ToString().PadLeft(7)).Append("  ");
        line.Append(' ', 2 * (record.Depth + (record.InsideSection ? 1 : 0)));
        line.Append(record.Type);
        if (record.SectionId != 0 && !record.InsideSection)
        {
            line.Append(" id=").Append(record.SectionId);
        }

        if (record.Summary is not null)
        {
            line.Append(' ').Append(record.Summary);
        }

        foreach (var (key, value) in record.Fields)
        {
            line.Append(' ').Append(key).Append('=').Append(Format(value));
        }

        output.WriteLine(line.ToString());
        if (record.Raw is not null)
        {
            HexRows(record.Raw, record.Offset);
        }
    }

    private static string Format(object value) => value switch
    {
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        IEnumerable<string> list => "[" + string.Join(",", list) + "]",
        // Nested records (a discard's ranges): not IEnumerable<object>, since KeyValuePair is a struct.
        IEnumerable<KeyValuePair<string, object>> fields => "{" + string.Join(" ", fields.Select(field => field.Key + "=" + Format(field.Value))) + "}",
        IEnumerable<object> items => "[" + string.Join(", ", items.Select(Format)) + "]",
        _ => value.ToString() ?? "",
    };

    private void HexRows(byte[] bytes, long baseOffset)
    {
        for (var row = 0; row < bytes.Length; row += 16)
        {
            var line = new StringBuilder("            ");
            line.Append((baseOffset + row).ToString("x8")).Append("  ");
            for (var i = 0; i < 16; i++)
            {
                line.Append(row + i < bytes.Length ? bytes[row + i].ToString("x2") + " " : "   ");
                if (i == 7)
                {
                    line.Append(' ');
                }
            }

            line.Append(" |");
            for (var i = row; i < Math.Min(row + 16, bytes.Length); i++)
            {
                line.Append(bytes[i] is >= 0x20 and < 0x7f ? (char)bytes[i] : '.');
            }

            line.Append('|');
            output.WriteLine(line.ToString());
        }
    }

    public void Finish(string? error)
    {
        output.Flush();
    }

    public void Dispose() => output.Flush();
}
