using System.Buffers;
using System.Net.Sockets;

namespace Qmig.Wire.Streaming;

/// <summary>
/// The bytes between an input (a stream, a file, a socket) and a reader that parses records as they
/// arrive: what the reader has not consumed stays at the front, new bytes go after it, and the
/// buffer is compacted, or doubled when a single record fills it, only when the next read finds no
/// room at its end. It is the receive loop of every reader here: read once, hand
/// <see cref="Unconsumed"/> to the reader, tell <see cref="Consumed"/> what it left, repeat.
/// </summary>
/// <remarks>
/// The buffer is pinned and only moves bytes at the start of a read, so the bytes a reader handed to
/// its visitor keep their address until the next read (a visitor may write them out by pointer).
/// </remarks>
public sealed class InputWindow
{
    /// <summary>The size a window starts with unless told otherwise: large reads, few system calls.</summary>
    public const int DefaultSize = 1 << 20;

    private byte[] _buffer;
    private int _start;
    private int _end;

    /// <summary>A window of <paramref name="size"/> bytes to begin with.</summary>
    public InputWindow(int size = DefaultSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _buffer = GC.AllocateUninitializedArray<byte>(size, pinned: true);
    }

    /// <summary>The input has ended: <see cref="Unconsumed"/> is all there will be.</summary>
    public bool IsFinal { get; private set; }

    /// <summary>What the reader has not consumed yet.</summary>
    public ReadOnlySequence<byte> Unconsumed => new(_buffer, _start, _end - _start);

    /// <summary>Reads once from <paramref name="input"/> (blocking until something comes); returns the bytes read, 0 at its end.</summary>
    public int ReadFrom(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var free = MakeRoom();
        return Arrived(input.Read(_buffer, _end, free));
    }

    /// <summary>Receives once from <paramref name="socket"/> (blocking until something comes); returns the bytes received, 0 when the peer closed.</summary>
    public int ReceiveFrom(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var free = MakeRoom();
        return Arrived(socket.Receive(_buffer, _end, free, SocketFlags.None));
    }

    /// <summary>Ends the input without a read: the peer is not waited for any longer.</summary>
    public void MarkFinal() => IsFinal = true;

    /// <summary>The reader left <paramref name="rest"/> of <see cref="Unconsumed"/>, which must be a tail of it.</summary>
    public void Consumed(in ReadOnlySequence<byte> rest)
    {
        _start = _end - (int)rest.Length;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    private int Arrived(int count)
    {
        _end += count;
        IsFinal |= count == 0;
        return count;
    }

    /// <summary>Free bytes at the end, after moving the unconsumed bytes to the front or doubling the buffer when there were none.</summary>
    private int MakeRoom()
    {
        if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else
            {
                var larger = GC.AllocateUninitializedArray<byte>(_buffer.Length * 2, pinned: true);
                _buffer.AsSpan(0, _end).CopyTo(larger);
                _buffer = larger;
            }
        }

        return _buffer.Length - _end;
    }
}
