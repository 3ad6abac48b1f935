using System.Buffers;

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
        var first = new Segment(bytes.Slice(0, cuts.Length == 0 ? bytes.Length : cuts[0]), 0);
        var last = first;
        for (var i = 0; i < cuts.Length; i++)
        {
            var end = i + 1 < cuts.Length ? cuts[i + 1] : bytes.Length;
            last = last.Append(bytes.Slice(cuts[i], end - cuts[i]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
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

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
