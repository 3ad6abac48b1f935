namespace Qmig.Wire.VmState;

/// <summary>Bounds a hostile vmdesc cannot push the decoder past.</summary>
public sealed record VmStateLimits
{
    /// <summary>The limits used when a caller gives none: generous for real devices, bounded for hostile input.</summary>
    public static VmStateLimits Default { get; } = new();

    /// <summary>
    /// Values decoded per body beyond one per body byte: zero-sized elements (empty structs, size 0
    /// buffers) cost no bytes, so a huge array_len of them would otherwise build an unbounded tree.
    /// </summary>
    public int ExtraValues { get; init; } = 1 << 20;

    /// <summary>Struct nesting depth (System.Text.Json already stops documents deeper than its MaxDepth).</summary>
    public int MaxDepth { get; init; } = 256;
}
