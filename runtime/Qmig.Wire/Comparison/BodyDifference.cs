namespace Qmig.Wire.Comparison;

/// <summary>Raw body comparison: the first differing offset, how many bytes differ in the common length, and both lengths.</summary>
/// <param name="FirstOffset">The first offset in the bodies where they differ (the common length, when one is a prefix of the other).</param>
/// <param name="DifferingBytes">How many bytes of the common length differ.</param>
/// <param name="LengthA">A's body length.</param>
/// <param name="LengthB">B's body length.</param>
public sealed record BodyDifference(long FirstOffset, long DifferingBytes, long LengthA, long LengthB);
