namespace Qmig.Wire.Comparison;

/// <summary>
/// A device whose state differs. Decoded on both sides: the differing <see cref="Fields"/>;
/// otherwise (no vmdesc, or a body that does not match it) the raw <see cref="Body"/> comparison.
/// </summary>
/// <param name="Idstr">The device's section idstr.</param>
/// <param name="Instance">Its instance id.</param>
/// <param name="Presence">Whether both streams have it.</param>
/// <param name="Versions">The section versions of A and B, when they differ.</param>
/// <param name="Fields">The fields that differ, when both sides were decoded.</param>
/// <param name="Body">The raw comparison of the bodies, when a side could not be decoded.</param>
public sealed record DeviceDifference(
    string Idstr,
    uint Instance,
    DiffPresence Presence,
    (uint A, uint B)? Versions,
    IReadOnlyList<FieldDifference> Fields,
    BodyDifference? Body);
