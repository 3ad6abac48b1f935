using System.Buffers;
using Qmig.Fuzz;

namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// Multi-segment <see cref="ReadOnlySequence{T}"/>s over one byte array, as a pipe would hand them
/// to a reader: the segments share the array's memory, so the sequence readers see exactly the
/// bytes the span readers see, only cut differently.
/// </summary>
public static class Segments
{
    /// <summary>The bytes cut at the given ascending positions (0 and the length give empty segments, which pipes also produce).</summary>
    public static ReadOnlySequence<byte> Cut(ReadOnlyMemory<byte> bytes, params ReadOnlySpan<int> cuts)
    {
        var pieces = new ReadOnlyMemory<byte>[cuts.Length + 1];
        pieces[0] = bytes.Slice(0, cuts.Length == 0 ? bytes.Length : cuts[0]);
        for (var i = 0; i < cuts.Length; i++)
        {
            var end = i + 1 < cuts.Length ? cuts[i + 1] : bytes.Length;
            pieces[i + 1] = bytes.Slice(cuts[i], end - cuts[i]);
        }

        return LinkedSegment.Join(pieces);
    }

    /// <summary>Every byte in a segment of its own: every multi-byte field straddles a boundary.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length <= 1)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var cuts = new int[bytes.Length - 1];
        for (var i = 0; i < cuts.Length; i++)
        {
            cuts[i] = i + 1;
        }

        return Cut(bytes, cuts);
    }
}
