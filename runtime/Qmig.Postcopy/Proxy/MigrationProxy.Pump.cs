using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;

namespace Qmig.Postcopy.Proxy;

public sealed partial class MigrationProxy
{
    /// <summary>
    /// One direction of one connection: read a chunk, decode it, write it whole to the other side,
    /// record it, and only then read again. The buffer holds the chunk behind the record the
    /// decoder has not finished (a record cut by the chunk's end), so the decoder reads in place.
    /// </summary>
    private PumpEnd Pump(ProxyConnection connection, bool forward, ChannelDecoder? decoder, string fileName)
    {
        var from = forward ? connection.Source : connection.Destination;
        var to = forward ? connection.Destination : connection.Source;
        var readSide = forward ? ProxySide.Source : ProxySide.Destination;
        var writeSide = forward ? ProxySide.Destination : ProxySide.Source;
        using var record = _recorder?.Create(fileName);
        var buffer = GC.AllocateUninitializedArray<byte>(_options.ChunkSize);
        var start = 0;
        var count = 0;
        long offset = 0;
        PumpEnd end;
        while (true)
        {
            if (buffer.Length - (start + count) < buffer.Length / 4)
            {
                // Less than a quarter free behind the undecoded tail: move the tail to the front, or
                // grow when the tail is most of the buffer (a record larger than a chunk).
                if (start > 0 && count <= buffer.Length / 2)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, count);
                    start = 0;
                }
                else
                {
                    var larger = GC.AllocateUninitializedArray<byte>(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, start, larger, 0, count);
                    buffer = larger;
                    start = 0;
                }
            }

            int read;
            try
            {
                read = from.Receive(buffer, start + count, buffer.Length - start - count, SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                end = new PumpEnd(readSide, Reason(e), Stopwatch.GetTimestamp());
                break;
            }

            var timestamp = Stopwatch.GetTimestamp();
            if (read == 0)
            {
                end = new PumpEnd(readSide, null, timestamp);
                break;
            }

            // Decoded before it is forwarded: the destination can answer these bytes (with a page
            // request on the return path) only once it has them, and by then they are counted.
            var at = start + count;
            if (decoder is not null)
            {
                count += read;
                if (!Decode(decoder, buffer, ref start, ref count, timestamp, fileName, isFinal: false))
                {
                    decoder.Abandoned = true;
                    decoder = null;
                    if (_options.Strict)
                    {
                        Finish(ProxyOutcome.Failed, $"{fileName} failed to decode (--strict): {_tally.DecodeErrors[^1]}");
                        end = new PumpEnd(readSide, "decode error", timestamp);
                        break;
                    }
                }
            }

            try
            {
                var chunk = buffer.AsSpan(at, read);
                while (!chunk.IsEmpty)
                {
                    chunk = chunk[to.Send(chunk, SocketFlags.None)..];
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                end = new PumpEnd(writeSide, Reason(e), timestamp);
                break;
            }

            connection.Add(forward, read);
            if (record is not null)
            {
                record.Write(buffer, at, read);
                _recorder!.Chunk(fileName, offset, read, timestamp);
            }

            offset += read;
            if (decoder is null)
            {
                start = count = 0;
            }
        }

        if (forward && connection.Channel == ProxyChannel.Main && end.ClosedBy == ProxySide.Source)
        {
            lock (_tally.Sync)
            {
                // Known at once, not after the connection's grace: a source resuming right away
                // must already be connected to the recover address.
                if (_tally.InPostcopy && decoder?.IsCompleted != true)
                {
                    _paused = true;
                }
            }
        }

        if (end.Failure is null)
        {
            // An orderly close is passed on as one: the other side reads the end of the stream.
            try
            {
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The other side is gone already.
            }
        }
        else
        {
            connection.Abort();
        }

        if (decoder is not null)
        {
            // Lets the reader see the end (a complete stream), without reporting a record cut by
            // the close: the close itself is what the caller reports.
            lock (_tally.Sync)
            {
                var rest = new ReadOnlySequence<byte>(buffer, start, count);
                decoder.Decode(ref rest, isFinalBlock: true, end.Timestamp);
            }
        }

        return end;
    }

    /// <summary>Decodes the bytes held; false (reported) when the stream is invalid.</summary>
    private bool Decode(ChannelDecoder decoder, byte[] buffer, ref int start, ref int count, long timestamp, string fileName, bool isFinal)
    {
        OperationStatus status;
        int used;
        lock (_tally.Sync)
        {
            var sequence = new ReadOnlySequence<byte>(buffer, start, count);
            status = decoder.Decode(ref sequence, isFinal, timestamp);
            used = count - (int)sequence.Length;
            if (status == OperationStatus.InvalidData && decoder.Error is { } error)
            {
                // The reader's offsets are the channel's own, except on a resumed main connection, which reads on from the last.
                var message = (error with { Offset = error.Offset - decoder.StartOffset }).Format(fileName);
                _tally.DecodeErrors.Add(message);
                Log(_options.Strict ? message : $"{message}; forwarding goes on without decoding {fileName}");
                return false;
            }
        }

        start += used;
        count -= used;
        if (count == 0)
        {
            start = 0;
        }

        return true;
    }

    private static string Reason(Exception e) => e is SocketException socket ? socket.SocketErrorCode.ToString() : "closed";
}
