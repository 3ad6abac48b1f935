using System.Globalization;
using Qmig.Wire.Comparison;
using Qmig.Wire.PythonJson;

namespace Qmig.Cli.Diff;

/// <summary>The report for people: one line per differing device, field, RAM block and page range.</summary>
internal static class DiffTextRenderer
{
    public static void Write(DiffReport report, TextWriter output)
    {
        foreach (var device in report.Devices)
        {
            var name = $"device {device.Idstr} (instance {device.Instance})";
            if (WroteOneSided(name, device.Presence, output))
            {
                continue;
            }

            output.WriteLine(device.Body is null
                ? $"{name}: {Count(device.Fields.Count, "field differs", "fields differ")}"
                : $"{name}: body differs (not decoded on both sides)");
            if (device.Versions is var (va, vb))
            {
                output.WriteLine($"  section version: {va} -> {vb}");
            }

            foreach (var field in device.Fields)
            {
                output.WriteLine($"  {field.Path}: {ShowChange(field.A, field.B)}");
            }

            if (device.Body is { } body)
            {
                output.WriteLine($"  first difference at body offset 0x{body.FirstOffset:x}, {Count(body.DifferingBytes, "byte differs", "bytes differ")}" +
                    (body.LengthA == body.LengthB ? "" : $"; lengths {body.LengthA} and {body.LengthB}"));
            }
        }

        foreach (var ram in report.Ram)
        {
            var name = $"ram {ram.Block}";
            if (WroteOneSided(name, ram.Presence, output))
            {
                continue;
            }

            output.WriteLine($"{name}: {Count(ram.Pages, "page differs", "pages differ")}" +
                (ram.LengthA == ram.LengthB ? "" : $"; used lengths 0x{ram.LengthA:x} and 0x{ram.LengthB:x}"));
            foreach (var range in ram.Ranges)
            {
                output.WriteLine($"  0x{range.Start:x16}-0x{range.End - 1:x16} ({range.Length} bytes)");
            }
        }

        output.WriteLine(report.IsEqual
            ? $"{report.A} and {report.B}: equal"
            : $"{report.A} and {report.B} differ: {Count(report.Devices.Count, "device", "devices")}, {Count(report.Ram.Count, "RAM block", "RAM blocks")}");
    }

    /// <summary>Writes the line of something only one side has, and says whether it did.</summary>
    private static bool WroteOneSided(string name, DiffPresence presence, TextWriter output)
    {
        var side = presence switch
        {
            DiffPresence.OnlyInA => "A",
            DiffPresence.OnlyInB => "B",
            _ => null,
        };
        if (side is not null)
        {
            output.WriteLine($"{name}: only in {side}");
        }

        return side is not null;
    }

    private static string Count(long n, string one, string many) => $"{n.ToString(CultureInfo.InvariantCulture)} {(n == 1 ? one : many)}";

    /// <summary>
    /// Long byte buffers of the same length (PCI config space, device RAM snippets) show only the
    /// bytes that changed, with their offsets in the field; everything else shows both values.
    /// </summary>
    private static string ShowChange(PyValue? a, PyValue? b)
    {
        if (a is PyString x && b is PyString y && x.Value.Length == y.Value.Length && x.Value.Length > 48 && IsHexBytes(x.Value) && IsHexBytes(y.Value))
        {
            var changes = new List<string>();
            var count = 0;
            for (var at = 0; at < x.Value.Length; at += 3)
            {
                if (string.CompareOrdinal(x.Value, at, y.Value, at, 2) != 0)
                {
                    if (++count <= 16)
                    {
                        changes.Add($"+0x{at / 3:x}: {x.Value.Substring(at, 2)} -> {y.Value.Substring(at, 2)}");
                    }
                }
            }

            return $"{Count(count, "byte differs", "bytes differ")} of {(x.Value.Length + 1) / 3}: {string.Join(", ", changes)}{(count > 16 ? ", ..." : "")}";
        }

        return $"{Show(a)} -> {Show(b)}";
    }

    private static bool IsHexBytes(string value)
    {
        if ((value.Length + 1) % 3 != 0)
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var ok = i % 3 == 2 ? value[i] == ' ' : char.IsAsciiHexDigitLower(value[i]) || char.IsAsciiDigit(value[i]);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static string Show(PyValue? value) => value switch
    {
        null => "(absent)",
        PyString s => s.Value,
        PyObject or PyList => Compact(PythonJsonWriter.ToText(value)),
        _ => value.ToString() ?? "",
    };

    /// <summary>A nested value on one line, cut short: a field diff line is for spotting, not for reading a whole struct.</summary>
    private static string Compact(string indented)
    {
        var line = string.Join(" ", indented.Split('\n').Select(l => l.Trim()));
        return line.Length <= 200 ? line : line[..200] + " ...";
    }
}
