using System.Net.Sockets;
using Qmig.Linux.Memory;
using Qmig.Wire;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Writes return-path messages on the migration socket. The reader thread (PONG, SHUT) and the fault
/// thread (page requests) both send, so each message goes out whole under a lock.
/// </summary>
internal sealed class ReturnPathSender(Socket socket, Stream? log)
{
    private readonly Lock _gate = new();
    private readonly byte[] _message = new byte[4 + 8 + 4 + 1 + 256];
    private readonly byte[] _payload = new byte[8 + 4 + 1 + 256];
    private RamBlockMemory? _lastRequestedBlock;

    public long BytesSent { get; private set; }

    public int Pongs { get; private set; }

    public int PageRequests { get; private set; }

    public int PageRequestsWithId { get; private set; }

    public void Pong(uint value)
    {
        lock (_gate)
        {
            Wire.Pong.TryWrite(_payload, value, out var length);
            Send(MigRpMsg.Pong, length);
            Pongs++;
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

    /// <summary>REQ_PAGES_ID when the block differs from the last request's (QEMU's rule), else REQ_PAGES.</summary>
    public void RequestPages(RamBlockMemory block, ulong offset, uint length)
    {
        lock (_gate)
        {
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
                PageRequestsWithId++;
                _lastRequestedBlock = block;
            }

            Send(type, payloadLength);
            PageRequests++;
        }
    }

    private void Send(MigRpMsg type, int payloadLength)
    {
        RpMessage.TryWrite(_message, type, _payload.AsSpan(0, payloadLength), out var length);
        var sent = 0;
        while (sent < length)
        {
            sent += socket.Send(_message, sent, length - sent, SocketFlags.None);
        }

        log?.Write(_message, 0, length);
        BytesSent += length;
    }
}
