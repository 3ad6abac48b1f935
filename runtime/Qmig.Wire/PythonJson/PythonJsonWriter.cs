using System.Text;

namespace Qmig.Wire.PythonJson;

/// <summary>
/// Writes what Python's <c>json.JSONEncoder(indent=4, separators=(',', ': '))</c> encodes, as
/// analyze-migration.py writes desc.json and state.json: four spaces per level, "," ending
/// lines, ": " after keys, "{}"/"[]" for empty containers, every character outside ' '..'~'
/// escaped (ensure_ascii, lowercase \uXXXX, one escape per UTF-16 unit), no trailing newline.
/// </summary>
public sealed class PythonJsonWriter
{
    private const string Hex = "0123456789abcdef";
    private readonly Stream _output;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _used;

    private PythonJsonWriter(Stream output) => _output = output;

    /// <summary>Writes <paramref name="value"/> to <paramref name="output"/> byte for byte as the script would.</summary>
    public static void Write(Stream output, PyValue value)
    {
        var writer = new PythonJsonWriter(output);
        writer.WriteValue(value, 0);
        writer.Flush();
    }

    /// <summary>The bytes the script would write for <paramref name="value"/> (ASCII only, as ensure_ascii makes them).</summary>
    public static byte[] ToBytes(PyValue value)
    {
        using var memory = new MemoryStream();
        Write(memory, value);
        return memory.ToArray();
    }

    /// <summary>The text the script would write for <paramref name="value"/>, for comparing or printing.</summary>
    public static string ToText(PyValue value) => Encoding.ASCII.GetString(ToBytes(value));

    private void WriteValue(PyValue value, int level)
    {
        switch (value)
        {
            case PyObject o:
                WriteObject(o, level);
                break;
            case PyList l:
                WriteList(l, level);
                break;
            case PyString s:
                WriteString(s.Value);
                break;
            case PyNumber n:
                WriteAscii(n.Repr);
                break;
            case PyBool b:
                WriteAscii(b.Value ? "true" : "false");
                break;
            default:
                WriteAscii("null");
                break;
        }
    }

    private void WriteObject(PyObject o, int level)
    {
        if (o.Count == 0)
        {
            WriteAscii("{}");
            return;
        }

        WriteByte((byte)'{');
        var first = true;
        foreach (var (key, value) in o.Items)
        {
            if (!first)
            {
                WriteByte((byte)',');
            }

            first = false;
            NewLine(level + 1);
            WriteString(key);
            WriteAscii(": ");
            WriteValue(value, level + 1);
        }

        NewLine(level);
        WriteByte((byte)'}');
    }

    private void WriteList(PyList l, int level)
    {
        if (l.Items.Count == 0)
        {
            WriteAscii("[]");
            return;
        }

        WriteByte((byte)'[');
        for (var i = 0; i < l.Items.Count; i++)
        {
            if (i > 0)
            {
                WriteByte((byte)',');
            }

            NewLine(level + 1);
            WriteValue(l.Items[i], level + 1);
        }

        NewLine(level);
        WriteByte((byte)']');
    }

    private void NewLine(int level)
    {
        WriteByte((byte)'\n');
        for (var i = 0; i < level * 4; i++)
        {
            WriteByte((byte)' ');
        }
    }

    private void WriteString(string value)
    {
        WriteByte((byte)'"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': WriteAscii("\\\""); break;
                case '\\': WriteAscii("\\\\"); break;
                case '\n': WriteAscii("\\n"); break;
                case '\r': WriteAscii("\\r"); break;
                case '\t': WriteAscii("\\t"); break;
                case '\b': WriteAscii("\\b"); break;
                case '\f': WriteAscii("\\f"); break;
                default:
                    if (c is >= ' ' and <= '~')
                    {
                        WriteByte((byte)c);
                    }
                    else
                    {
                        WriteAscii("\\u");
                        WriteByte((byte)Hex[c >> 12]);
                        WriteByte((byte)Hex[(c >> 8) & 0xf]);
                        WriteByte((byte)Hex[(c >> 4) & 0xf]);
                        WriteByte((byte)Hex[c & 0xf]);
                    }

                    break;
            }
        }

        WriteByte((byte)'"');
    }

    private void WriteAscii(string text)
    {
        foreach (var c in text)
        {
            WriteByte((byte)c);
        }
    }

    private void WriteByte(byte b)
    {
        if (_used == _buffer.Length)
        {
            Flush();
        }

        _buffer[_used++] = b;
    }

    private void Flush()
    {
        _output.Write(_buffer, 0, _used);
        _used = 0;
    }
}
