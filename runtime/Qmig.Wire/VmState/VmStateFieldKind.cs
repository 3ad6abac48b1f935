using System.Text.Json;

namespace Qmig.Wire.VmState;

/// <summary>How analyze-migration.py reads a field, chosen by the vmdesc <c>type</c> and the <see cref="AnalyzerShape"/>.</summary>
public enum VmStateFieldKind : byte
{
    /// <summary><c>size</c> bytes shown as space-separated hex: buffers, timers, tmp, vstruct, device-specific and unknown types.</summary>
    Raw,

    /// <summary><c>size</c> bytes, true when the first is non-zero.</summary>
    Bool,

    /// <summary>A big-endian two's-complement integer of <c>size</c> bytes; negatives also show their decimal value.</summary>
    Signed,

    /// <summary>A big-endian unsigned integer of <c>size</c> bytes.</summary>
    Unsigned,

    /// <summary>A nested vmsd under <c>struct</c>: its fields, then its subsections.</summary>
    Struct,

    /// <summary>QEMU 10.x's placeholder for a NULL element of an array of pointers: <c>size</c> bytes that must be "0", shown as "nullptr".</summary>
    Nullptr,

    /// <summary>A migration capability's name as the configuration section holds it: a length byte, then that many bytes of UTF-8, shown as the name.</summary>
    Capability,
}

/// <summary>How analyze-migration.py reads each vmdesc field type, so decoding shows values as the script does.</summary>
public static class VmStateFieldKinds
{
    /// <summary>
    /// The script's reader table. "uint8 equal" and "uint16 equal" are read as signed there (and
    /// "int32 le" too), so a 0xff shows as "0xff (-1)"; any type it does not list is raw bytes.
    /// QEMU 10.0's table adds "nullptr" and "capability", which 7.2's shows as raw bytes.
    /// </summary>
    public static VmStateFieldKind Of(string? type, AnalyzerShape shape = AnalyzerShape.Qemu72) => type switch
    {
        "bool" => VmStateFieldKind.Bool,
        "int8" or "int16" or "int32" or "int32 equal" or "int32 le" or "int64" or "int64 equal" or "uint8 equal" or "uint16 equal" => VmStateFieldKind.Signed,
        "uint8" or "uint16" or "uint32" or "uint32 equal" or "uint64" => VmStateFieldKind.Unsigned,
        "struct" => VmStateFieldKind.Struct,
        "nullptr" when shape == AnalyzerShape.Qemu10 => VmStateFieldKind.Nullptr,
        "capability" when shape == AnalyzerShape.Qemu10 => VmStateFieldKind.Capability,
        _ => VmStateFieldKind.Raw,
    };

    /// <summary>The kind of a vmdesc field object, by its <c>type</c> key; raw bytes when it has none.</summary>
    public static VmStateFieldKind Of(JsonElement field, AnalyzerShape shape = AnalyzerShape.Qemu72) =>
        field.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? Of(type.GetString(), shape) : VmStateFieldKind.Raw;
}
