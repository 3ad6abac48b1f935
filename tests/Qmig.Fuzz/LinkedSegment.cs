using System.Buffers;

namespace Qmig.Fuzz;

/// <summary>
/// A segment of a multi-segment <see cref="ReadOnlySequence{T}"/> over memory the caller owns, as a
/// pipe hands data over. The one segment type of the fuzz harnesses, the tests and the benchmarks
/// (linked into each), so that all of them cut sequences the same way.
/// </summary>
public sealed class LinkedSegment : ReadOnlySequenceSegment<byte>
{
    private LinkedSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    /// <summary>The pieces joined in order, each its own segment (empty pieces stay empty segments).</summary>
    public static ReadOnlySequence<byte> Join(IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        if (pieces.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new LinkedSegment(pieces[0], 0);
        var last = first;
        for (var i = 1; i < pieces.Count; i++)
        {
            var next = new LinkedSegment(pieces[i], last.RunningIndex + last.Memory.Length);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
