namespace Qmig.Wire.Comparison;

/// <summary>A [start, end) byte range of whole pages in a RAM block.</summary>
/// <param name="Start">The first byte.</param>
/// <param name="End">The byte after the last.</param>
public readonly record struct PageRange(ulong Start, ulong End)
{
    /// <summary>The range's length in bytes.</summary>
    public ulong Length => End - Start;
}
