using System.Buffers;

namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// <see cref="RecordCase{T, TS}"/> for the types without parameters, done once through the static
/// abstract members of <see cref="IWireRecord{TSelf, TSequenced}"/>: a case of such a type only
/// says how to write its values, what record they make, and how its sequence shape compares.
/// </summary>
public abstract record WireRecordCase<T, TS> : RecordCase<T, TS>
    where T : IWireRecord<T, TS>, allows ref struct
{
    protected sealed override OperationStatus ReadRecord(ReadOnlySpan<byte> source, out T value, out int consumed, out WireError error)
        => T.TryRead(source, out value, out consumed, out error);

    protected sealed override OperationStatus ReadRecord(in ReadOnlySequence<byte> source, out TS value, out long consumed, out WireError error)
        => T.TryRead(source, out value, out consumed, out error);

    protected sealed override bool SpanEquals(T left, T right) => left.ContentEquals(right);

    protected sealed override OperationStatus WriteBack(T value, Span<byte> destination, out int written) => value.TryWriteTo(destination, out written);

    protected sealed override int EncodedSizeOf(T value) => value.EncodedSize;
}
