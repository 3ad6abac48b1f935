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
    static abstract OperationStatus TryRead(ReadOnlySpan<byte> source, out TSelf value, out int consumed, out WireError error);

    static abstract OperationStatus TryRead(in ReadOnlySequence<byte> source, out TSequenced value, out long consumed, out WireError error);

    OperationStatus TryWriteTo(Span<byte> destination, out int written);

    int EncodedSize { get; }

    bool ContentEquals(TSelf other);
}
