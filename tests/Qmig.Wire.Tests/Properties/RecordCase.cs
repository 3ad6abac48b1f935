using System.Buffers;
using Xunit;

namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// The checks of <see cref="WireCase"/> for a record type <typeparamref name="T"/> whose sequence
/// reader returns <typeparamref name="TS"/>. Subclasses say how to read (with their parameters),
/// compare and write back; <see cref="WireRecordCase{T, TS}"/> does that once for every type that
/// implements <see cref="IWireRecord{TSelf, TSequenced}"/>.
/// </summary>
public abstract record RecordCase<T, TS> : WireCase
    where T : allows ref struct
    where TS : allows ref struct
{
    public sealed override Type RecordType => typeof(T);

    /// <summary>The record these values must read back as, built with the generated constructor.</summary>
    protected abstract T Expected();

    protected abstract OperationStatus ReadRecord(ReadOnlySpan<byte> source, out T value, out int consumed, out WireError error);

    protected abstract OperationStatus ReadRecord(in ReadOnlySequence<byte> source, out TS value, out long consumed, out WireError error);

    /// <summary>The generated <c>ContentEquals</c> of the span shape.</summary>
    protected abstract bool SpanEquals(T left, T right);

    /// <summary>The generated <c>ContentEquals</c> of the sequence shape against the span shape.</summary>
    protected abstract bool SequencedEquals(TS sequenced, T span);

    /// <summary>The generated <c>TryWriteTo</c>.</summary>
    protected abstract OperationStatus WriteBack(T value, Span<byte> destination, out int written);

    /// <summary>The generated <c>EncodedSize</c>.</summary>
    protected abstract int EncodedSizeOf(T value);

    public sealed override OperationStatus Read(ReadOnlySpan<byte> source, out int consumed, out WireError error)
        => ReadRecord(source, out _, out consumed, out error);

    public sealed override OperationStatus Read(in ReadOnlySequence<byte> source, out long consumed, out WireError error)
        => ReadRecord(source, out _, out consumed, out error);

    public sealed override void AssertReadsBack(byte[] encoded, byte[] tail)
    {
        var status = ReadRecord(encoded, out var value, out var consumed, out var error);
        Assert.True(status == OperationStatus.Done, $"Reading what the writer wrote gave {status} ({error}) for {Convert.ToHexString(encoded)}");
        Assert.Equal(encoded.Length, consumed);
        Assert.True(SpanEquals(Expected(), value), $"The record read back differs from the values written ({Convert.ToHexString(encoded)})");
        AssertWritesBack(value, encoded);

        // A sized record ends where its input ends, so only a self-delimiting one can be followed by more bytes.
        if (!IsSized)
        {
            var longer = new byte[encoded.Length + tail.Length];
            encoded.CopyTo(longer, 0);
            tail.CopyTo(longer, encoded.Length);
            status = ReadRecord(longer, out var again, out consumed, out error);
            Assert.True(status == OperationStatus.Done, $"With {tail.Length} more bytes after it the record gave {status} ({error})");
            Assert.Equal(encoded.Length, consumed);
            Assert.True(SpanEquals(Expected(), again), "With more bytes after it the record reads differently");
        }
    }

    public sealed override void AssertEqualExactlyWhenBytesAre(byte[] encoded, byte[] other)
    {
        Assert.Equal(OperationStatus.Done, ReadRecord(encoded, out var first, out _, out _));
        Assert.Equal(OperationStatus.Done, ReadRecord(other, out var second, out _, out _));
        Assert.Equal(OperationStatus.Done, ReadRecord(new ReadOnlySequence<byte>(other), out var secondSequenced, out _, out _));
        var sameBytes = encoded.AsSpan().SequenceEqual(other);
        Assert.True(SpanEquals(first, second) == sameBytes, $"ContentEquals says {!sameBytes} for {Convert.ToHexString(encoded)} and {Convert.ToHexString(other)}");
        Assert.True(SequencedEquals(secondSequenced, first) == sameBytes, $"The sequence shape's ContentEquals says {!sameBytes} for {Convert.ToHexString(encoded)} and {Convert.ToHexString(other)}");
    }

    public sealed override void AssertSequenceReadsSame(byte[] encoded, in ReadOnlySequence<byte> sequence)
    {
        var spanStatus = ReadRecord(encoded, out var fromSpan, out var spanConsumed, out _);
        var status = ReadRecord(sequence, out var fromSequence, out var consumed, out var error);
        Assert.Equal(spanStatus, status);
        Assert.True(status == OperationStatus.Done, $"The sequence reader gave {status} ({error})");
        Assert.Equal(spanConsumed, consumed);
        Assert.True(SequencedEquals(fromSequence, fromSpan), $"The sequence reader's record differs from the span reader's ({SegmentsOf(sequence)})");
    }

    public sealed override void AssertAnyInputIsHandled(byte[] input, in ReadOnlySequence<byte> sequence)
    {
        var status = ReadRecord(input, out var value, out var consumed, out var error);
        Assert.True(status is OperationStatus.Done or OperationStatus.NeedMoreData or OperationStatus.InvalidData, $"Unexpected status {status}");
        var sequenceStatus = ReadRecord(sequence, out var fromSequence, out var sequenceConsumed, out var sequenceError);
        Assert.True(status == sequenceStatus, $"The span reader says {status} ({error}), the sequence reader {sequenceStatus} ({sequenceError}) ({SegmentsOf(sequence)})");
        if (status == OperationStatus.InvalidData)
        {
            Assert.False(error.IsEmpty, "InvalidData without a WireError");
            Assert.InRange(error.Offset, 0, input.Length);
        }

        if (status != OperationStatus.Done)
        {
            Assert.Equal(0, consumed);
            return;
        }

        Assert.InRange(consumed, 0, input.Length);
        Assert.Equal(consumed, sequenceConsumed);
        Assert.True(SequencedEquals(fromSequence, value), "The two readers accept the input as different records");
        AssertWritesBack(value, input.AsSpan(0, consumed));
    }

    private void AssertWritesBack(T value, ReadOnlySpan<byte> original)
    {
        Assert.Equal(original.Length, EncodedSizeOf(value));
        var buffer = new byte[original.Length];
        var status = WriteBack(value, buffer, out var written);
        Assert.True(status == OperationStatus.Done, $"TryWriteTo of a record that was read gave {status}");
        Assert.Equal(original.Length, written);
        Assert.True(buffer.AsSpan().SequenceEqual(original), $"TryWriteTo wrote {Convert.ToHexString(buffer)} for a record read from {Convert.ToHexString(original)}");
    }

    private static string SegmentsOf(in ReadOnlySequence<byte> sequence)
    {
        var lengths = new List<int>();
        foreach (var segment in sequence)
        {
            lengths.Add(segment.Length);
        }

        return lengths.Count > 16 ? $"{lengths.Count} segments" : "segments of " + string.Join("+", lengths);
    }
}
