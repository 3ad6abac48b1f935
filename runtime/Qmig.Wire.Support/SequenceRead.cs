using System.Buffers;
using System.Runtime.CompilerServices;

namespace Qmig.Wire;

/// <summary>Reads integers that may straddle segments of a <see cref="ReadOnlySequence{T}"/>.</summary>
/// <remarks>Called by generated readers and writers; public so that records generated into other assemblies can call it.</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class SequenceRead
{
    /// <summary>
    /// The first <paramref name="count"/> bytes as one span: the first segment itself when it is long
    /// enough (no copy), else a copy into <paramref name="scratch"/>. The source must hold that many.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Head(in ReadOnlySequence<byte> source, int count, Span<byte> scratch)
    {
        var first = source.FirstSpan;
        if (first.Length >= count)
        {
            return first;
        }

        source.Slice(0, count).CopyTo(scratch);
        return scratch;
    }

    /// <summary>True when the sequence holds exactly the bytes of <paramref name="span"/>, compared segment by segment without copying.</summary>
    public static bool ContentEquals(in ReadOnlySequence<byte> sequence, ReadOnlySpan<byte> span)
    {
        if (sequence.Length != span.Length)
        {
            return false;
        }

        foreach (var segment in sequence)
        {
            if (!segment.Span.SequenceEqual(span.Slice(0, segment.Length)))
            {
                return false;
            }

            span = span.Slice(segment.Length);
        }

        return true;
    }

    /// <summary>
    /// Checks fixed bytes (a spec's <c>contents</c>) against what has arrived so far: false as soon as a
    /// byte differs; true when all that arrived matches, with <paramref name="complete"/> false while
    /// the sequence is still shorter than <paramref name="expected"/>.
    /// </summary>
    public static bool StartsWith(in ReadOnlySequence<byte> source, ReadOnlySpan<byte> expected, out bool complete)
    {
        var available = (int)Math.Min(source.Length, expected.Length);
        Span<byte> scratch = stackalloc byte[64];
        var compared = 0;
        foreach (var segment in source)
        {
            var take = Math.Min(segment.Length, available - compared);
            if (!segment.Span.Slice(0, take).SequenceEqual(expected.Slice(compared, take)))
            {
                complete = false;
                return false;
            }

            compared += take;
            if (compared == available)
            {
                break;
            }
        }

        complete = available == expected.Length;
        return true;
    }
}
