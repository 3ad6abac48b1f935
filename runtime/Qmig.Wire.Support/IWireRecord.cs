using System.Buffers;
using System.Runtime.CompilerServices;

namespace Qmig.Wire;

/// <summary>
/// What every generated record without parameters offers, so code (tests, the inspector) can
/// treat records generically; ref structs take part through <c>allows ref struct</c>.
/// </summary>
public interface IWireRecord<TSelf, TSequenced>
    where TSelf : IWireRecord<TSelf, TSequenced>, allows ref struct
{
    /// <summary>
    /// Reads one record from the start of <paramref name="source"/>: <c>Done</c> with the bytes it
    /// <paramref name="consumed"/>, <c>NeedMoreData</c> when the record goes on past the end, or
    /// <c>InvalidData</c> with <paramref name="error"/> naming the field, offset and rule that failed.
    /// </summary>
    static abstract OperationStatus TryRead(ReadOnlySpan<byte> source, out TSelf value, out int consumed, out WireError error);

    /// <summary>As the span overload, over a sequence whose segments a record may straddle (a socket's pipe, a file read in chunks).</summary>
    static abstract OperationStatus TryRead(in ReadOnlySequence<byte> source, out TSequenced value, out long consumed, out WireError error);

    /// <summary>Writes the record back as read, so a proxy or a rewriting tool can re-encode it: <c>DestinationTooSmall</c> when it does not fit.</summary>
    OperationStatus TryWriteTo(Span<byte> destination, out int written);

    /// <summary>The bytes <see cref="TryWriteTo"/> needs, to size a buffer before writing; -1 if the record breaks its spec.</summary>
    int EncodedSize { get; }

    /// <summary>True when both records hold the same values and bytes; records over spans cannot use <c>Equals</c>.</summary>
    bool ContentEquals(TSelf other);
}
