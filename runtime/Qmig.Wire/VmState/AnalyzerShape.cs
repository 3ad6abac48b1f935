using System.Text.Json;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.VmState;

/// <summary>
/// Which QEMU's <c>scripts/analyze-migration.py</c> state.json imitates. The two differ where
/// QEMU 10.0 changed how the vmdesc describes arrays, so each follows the vmdesc its QEMU writes.
/// </summary>
public enum AnalyzerShape : byte
{
    /// <summary>
    /// QEMU 7.2's script (with Debian's unsigned 16/32/64-bit reads): a field entry carrying
    /// <c>index</c> is appended to the list of its name, any other entry replaces the value of its
    /// name. QEMU 7.2 gives every element of a non-compressible array an index, so arrays become lists.
    /// </summary>
    Qemu72,

    /// <summary>
    /// QEMU 10.0's script: the second entry with a name turns its value into a list of both, later
    /// ones are appended, <c>index</c> itself no longer matters (QEMU 10.0 gives the last element of
    /// an array none, and splits arrays of pointers into runs of one name); a <c>nullptr</c> field
    /// (the placeholder byte '0' for a NULL element) shows as "nullptr"; a <c>capability</c> field
    /// is a length byte and that many bytes of name, shown as the name.
    /// </summary>
    Qemu10,
}

/// <summary>Chooses the <see cref="AnalyzerShape"/> for a vmdesc.</summary>
public static class AnalyzerShapes
{
    /// <summary>
    /// <see cref="AnalyzerShape.Qemu10"/> when the vmdesc opens with a <c>configuration</c> object
    /// (QEMU 10.0 describes its configuration section there; QEMU 7.2 does not), else
    /// <see cref="AnalyzerShape.Qemu72"/>. On a vmdesc that gives every array element its index,
    /// as QEMU before 10.0 writes them, both shapes print the same state.json, so a QEMU between
    /// the two is shown correctly either way.
    /// </summary>
    public static AnalyzerShape For(VmDescriptionDocument vmdesc)
    {
        var root = vmdesc.Document.RootElement;
        return root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("configuration", out var configuration)
            && configuration.ValueKind == JsonValueKind.Object
            ? AnalyzerShape.Qemu10
            : AnalyzerShape.Qemu72;
    }

    /// <summary>The name <c>--analyzer-shape</c> takes: "7.2" or "10".</summary>
    public static string Name(AnalyzerShape shape) => shape == AnalyzerShape.Qemu10 ? "10" : "7.2";

    /// <summary>Reads a <c>--analyzer-shape</c> value ("7.2" or "10"); false for anything else.</summary>
    public static bool TryParse(string? name, out AnalyzerShape shape)
    {
        switch (name)
        {
            case "7.2":
                shape = AnalyzerShape.Qemu72;
                return true;
            case "10":
                shape = AnalyzerShape.Qemu10;
                return true;
            default:
                shape = AnalyzerShape.Qemu72;
                return false;
        }
    }
}
