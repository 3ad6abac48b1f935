using Qmig.Wire.PythonJson;

namespace Qmig.Cli.Diff;

/// <summary>What differs between two streams: devices (by idstr and instance) and RAM blocks (by name).</summary>
internal sealed record DiffReport(string A, string B, IReadOnlyList<DeviceDifference> Devices, IReadOnlyList<RamDifference> Ram)
{
    public bool IsEqual => Devices.Count == 0 && Ram.Count == 0;
}

internal enum DiffPresence
{
    Both,
    OnlyInA,
    OnlyInB,
}

/// <summary>
/// A device whose state differs. Decoded on both sides: the differing <see cref="Fields"/>;
/// otherwise (no vmdesc, or a body that does not match it) the raw <see cref="Body"/> comparison.
/// </summary>
internal sealed record DeviceDifference(
    string Idstr,
    uint Instance,
    DiffPresence Presence,
    (uint A, uint B)? Versions,
    IReadOnlyList<FieldDifference> Fields,
    BodyDifference? Body);

/// <summary>A field path (as in state.json, e.g. <c>env.regs[3]</c>) and its value on each side; null where absent.</summary>
internal sealed record FieldDifference(
    string Path,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(PyValueJsonConverter))] PyValue? A,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(PyValueJsonConverter))] PyValue? B);

/// <summary>Raw body comparison: the first differing offset, how many bytes differ in the common length, and both lengths.</summary>
internal sealed record BodyDifference(long FirstOffset, long DifferingBytes, long LengthA, long LengthB);

/// <summary>A RAM block whose final pages differ, as coalesced [start, end) byte ranges of whole pages.</summary>
internal sealed record RamDifference(
    string Block,
    DiffPresence Presence,
    ulong? LengthA,
    ulong? LengthB,
    long Pages,
    IReadOnlyList<PageRange> Ranges);

internal readonly record struct PageRange(ulong Start, ulong End)
{
    public ulong Length => End - Start;
}
