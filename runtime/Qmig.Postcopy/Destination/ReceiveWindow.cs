using System.Buffers;
using System.Net.Sockets;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The bytes of one connection between the socket and the stream reader: what the reader has not
/// consumed yet stays at the front, new bytes go after it, and the window doubles only when a
/// single record fills all of it. Both the main channel and the preempt channel read through one.
/// </summary>
internal sealed class ReceiveWindow(int size)
{
    private byte[] _buffer = new byte[size];
    private int _start;
    private int _end;

    /// <summary>The connection has ended: no more bytes will come.</summary>
    public bool Final { get; private set; }

    /// <summary>What the reader has not consumed yet.</summary>
    public ReadOnlySequence<byte> Unconsumed => new(_buffer, _start, _end - _start);

    /// <summary>Receives what the socket has (blocking until something comes); 0 marks the end.</summary>
    public int ReceiveFrom(Socket socket)
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
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
        }

        var received = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        _end += received;
        Final |= received == 0;
        return received;
    }

    /// <summary>Ends the connection's input without a read (the peer is not waited for any longer).</summary>
    public void MarkFinal() => Final = true;

    /// <summary>The reader left <paramref name="rest"/> unconsumed of <see cref="Unconsumed"/>.</summary>
    public void Consumed(ReadOnlySequence<byte> rest)
    {
        _start = _end - (int)rest.Length;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }
}
