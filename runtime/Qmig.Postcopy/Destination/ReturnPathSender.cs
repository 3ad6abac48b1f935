using System.Buffers.Binary;
using System.Numerics;
using Qmig.Linux.Memory;
using Qmig.Wire;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Writes return-path messages on the migration's main connection. The reader thread (PONG, SHUT, recovery
/// answers) and the fault thread (page requests) both send, so each message goes out whole under
/// a lock. A send that fails never throws into its caller: the sender detaches, drops every later
/// message (page requests stay requested and are asked for again on resume) and reports the break
/// once through <paramref name="linkBroken"/>, so the one place that decides between pausing and
/// failing sees every break, whichever thread noticed it. <see cref="Attach"/> takes the resumed connection.
/// </summary>
internal sealed class ReturnPathSender(MainConnection connection, Stream? log, Action<MainConnection, Exception> linkBroken)
{
    /// <summary>RAMBLOCK_RECV_BITMAP_ENDING, after every received-pages bitmap.</summary>
    private const ulong RecvBitmapEnding = 0x0123456789ABCDEF;

    private readonly Lock _gate = new();
    private readonly byte[] _message = new byte[4 + 8 + 4 + 1 + 256];
    private readonly byte[] _payload = new byte[8 + 4 + 1 + 256];
    private MainConnection? _connection = connection;
    private bool _requestsHeld;
    private RamBlockMemory? _lastRequestedBlock;

    public long BytesSent { get; private set; }

    public int Pongs { get; private set; }

    public int PageRequests { get; private set; }

    public int PageRequestsWithId { get; private set; }

    /// <summary>The connection broke: until <see cref="Attach"/>, messages go nowhere.</summary>
    public void Detach()
    {
        lock (_gate)
        {
            _connection = null;
        }
    }

    /// <summary>
    /// The resumed connection carries the return path from now on; the source has forgotten the
    /// block of the last request, so the next request names its block again (QEMU resets last_rb).
    /// </summary>
    public void Attach(MainConnection resumed)
    {
        lock (_gate)
        {
            _connection = resumed;
            _requestsHeld = true;
            _lastRequestedBlock = null;
        }
    }

    /// <summary>
    /// After RESUME_ACK: page requests go out again. Until then they are dropped, as QEMU's fault
    /// thread waits during recovery; the pages stay requested and are asked for once resumed.
    /// </summary>
    public void ReleaseRequests()
    {
        lock (_gate)
        {
            _requestsHeld = false;
        }
    }

    public void Pong(uint value)
    {
        lock (_gate)
        {
            Wire.Pong.TryWrite(_payload, value, out var length);
            if (Send(MigRpMsg.Pong, length))
            {
                Pongs++;
            }
        }
    }

    public void Shut(uint status)
    {
        lock (_gate)
        {
            Wire.Shut.TryWrite(_payload, status, out var length);
            Send(MigRpMsg.Shut, length);
        }
    }

    public void ResumeAck(uint value)
    {
        lock (_gate)
        {
            Wire.ResumeAck.TryWrite(_payload, value, out var length);
            Send(MigRpMsg.ResumeAck, length);
        }
    }

    /// <summary>
    /// RECV_BITMAP for <paramref name="block"/>, then its received-pages bitmap: one bit per target
    /// page, little-endian, rounded up to whole 64-bit words, then the end marker (QEMU's
    /// ramblock_recv_bitmap_send). A received huge page sets the bits of all its target pages.
    /// </summary>
    public void RecvBitmap(RamBlockMemory block, int targetPageSize)
    {
        var targetPages = (long)(block.Length / (ulong)targetPageSize);
        var bitmap = new byte[(targetPages + 63) / 64 * 8];
        var perPage = block.PageSize / targetPageSize;
        // The page-state array gives one bit per (host) page; a huge page's bit spreads to its target pages.
        var received = new ulong[(block.PageCount + 63) / 64];
        block.States.CopyReceivedBitmap(received);
        for (var word = 0; word < received.Length; word++)
        {
            if (perPage == 1)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bitmap.AsSpan(word * 8), received[word]);
                continue;
            }

            for (var bits = received[word]; bits != 0; bits &= bits - 1)
            {
                var page = (word * 64L) + BitOperations.TrailingZeroCount(bits);
                for (var bit = page * perPage; bit < (page + 1) * perPage; bit++)
                {
                    bitmap[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                }
            }
        }

        var blob = new byte[8 + bitmap.Length + 8];
        RecvBitmapBlob.TryWrite(blob, bitmap, RecvBitmapEnding, out var blobLength);
        lock (_gate)
        {
            RpRecvBitmap.TryWrite(_payload, System.Text.Encoding.UTF8.GetBytes(block.Name), out var length);
            if (Send(MigRpMsg.RecvBitmap, length))
            {
                SendRaw(blob.AsSpan(0, blobLength));
            }
        }
    }

    /// <summary>REQ_PAGES_ID when the block differs from the last request's (QEMU's rule), else REQ_PAGES.</summary>
    public void RequestPages(RamBlockMemory block, ulong offset, uint length)
    {
        lock (_gate)
        {
            if (_connection is null || _requestsHeld)
            {
                return;
            }

            int payloadLength;
            MigRpMsg type;
            if (ReferenceEquals(block, _lastRequestedBlock))
            {
                ReqPages.TryWrite(_payload, offset, length, out payloadLength);
                type = MigRpMsg.ReqPages;
            }
            else
            {
                ReqPagesId.TryWrite(_payload, offset, length, System.Text.Encoding.UTF8.GetBytes(block.Name), out payloadLength);
                type = MigRpMsg.ReqPagesId;
                _lastRequestedBlock = block;
            }

            if (Send(type, payloadLength))
            {
                PageRequests++;
                PageRequestsWithId += type == MigRpMsg.ReqPagesId ? 1 : 0;
            }
        }
    }

    /// <returns>False when the message was dropped: the link is broken.</returns>
    private bool Send(MigRpMsg type, int payloadLength)
    {
        RpMessage.TryWrite(_message, type, _payload.AsSpan(0, payloadLength), out var length);
        return SendRaw(_message.AsSpan(0, length));
    }

    private bool SendRaw(ReadOnlySpan<byte> bytes)
    {
        if (_connection is not { } target)
        {
            return false;
        }

        try
        {
            target.Write(bytes);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            _connection = null;
            linkBroken(target, e);
            return false;
        }

        log?.Write(bytes);
        BytesSent += bytes.Length;
        return true;
    }
}
