using System.Buffers;

namespace Qmig.Wire.Streaming;

/// <summary>
/// Large reads from a <see cref="System.IO.Stream"/> into one reusable buffer, presented as a
/// sequence; only the unread tail is kept, and the buffer grows only when a single record needs it.
/// The buffer is pinned, so bytes handed out stay at their address until <see cref="Advance"/>.
/// </summary>
internal sealed class ChunkedInput(System.IO.Stream input, int chunkSize = ChunkedInput.DefaultChunkSize)
{
    public const int DefaultChunkSize = 1 << 20;

    private byte[] _buffer = GC.AllocateUninitializedArray<byte>(chunkSize, pinned: true);
    private int _start;
    private int _count;

    /// <summary>The input has ended: what <see cref="Fill"/> returns is all there is.</summary>
    public bool IsFinal { get; private set; }

    /// <summary>Reads more if there is room, and returns every unread byte.</summary>
    public ReadOnlySequence<byte> Fill()
    {
        if (!IsFinal && _start + _count < _buffer.Length)
        {
            var read = input.Read(_buffer, _start + _count, _buffer.Length - _start - _count);
            IsFinal = read == 0;
            _count += read;
        }

        return new ReadOnlySequence<byte>(_buffer, _start, _count);
    }

    /// <summary>Drops what the reader consumed (the sequence it left) and makes room for the next read.</summary>
    public void Advance(in ReadOnlySequence<byte> unread)
    {
        var used = _count - (int)unread.Length;
        _start += used;
        _count -= used;
        if (_start + _count < _buffer.Length)
        {
            return;
        }

        if (_start == 0)
        {
            var larger = GC.AllocateUninitializedArray<byte>(_buffer.Length * 2, pinned: true);
            _buffer.AsSpan(0, _count).CopyTo(larger);
            _buffer = larger;
        }
        else
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _count);
            _start = 0;
        }
    }
}
