using System.Buffers;

namespace Qmig.Wire.IO;

/// <summary>A window of a <see cref="FileMapping"/> as <see cref="Memory{T}"/>, so a reader can take it as a sequence without copying.</summary>
internal sealed unsafe class UnmanagedMemory(byte* pointer, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
