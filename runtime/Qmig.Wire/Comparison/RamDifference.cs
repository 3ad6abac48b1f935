namespace Qmig.Wire.Comparison;

/// <summary>A RAM block whose final pages differ, as coalesced [start, end) byte ranges of whole pages.</summary>
/// <param name="Block">The block's name.</param>
/// <param name="Presence">Whether both streams have it.</param>
/// <param name="LengthA">Its used length in A, or null when A does not have it.</param>
/// <param name="LengthB">Its used length in B, or null when B does not have it.</param>
/// <param name="Pages">How many pages of the common length differ.</param>
/// <param name="Ranges">Where they are, adjacent pages coalesced.</param>
public sealed record RamDifference(
    string Block,
    DiffPresence Presence,
    ulong? LengthA,
    ulong? LengthB,
    long Pages,
    IReadOnlyList<PageRange> Ranges);
