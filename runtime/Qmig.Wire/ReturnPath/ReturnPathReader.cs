using System.Buffers;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.ReturnPath;

/// <summary>
/// Reads the destination-to-source return path: framed MIG_RP_MSG messages, plus the raw
/// received-bitmap blob that follows a RECV_BITMAP message outside its length. Incremental like
/// the main stream reader; every length is checked against QEMU's rules before it is trusted.
/// </summary>
/// <remarks>
/// With <paramref name="blocks"/> (the source's RAM blocks) a RECV_BITMAP must name one of them and
/// its blob must be exactly that block's bitmap size, as QEMU's source requires before it merges
/// the bitmap; without them only the cap, the word size and the end marker are checked.
/// </remarks>
public sealed class ReturnPathReader(long maxBitmapSize = 256L << 20, IReadOnlyList<RamBlock>? blocks = null, int targetPageSize = 4096)
{
    private byte[] _scratch = new byte[1024];
    private bool _blobExpected;
    private ulong? _expectedBitmapSize;

    /// <summary>Bytes of the return path consumed so far; the offset the next message starts at.</summary>
    public long Position { get; private set; }

    /// <summary>Why reading stopped, once a message broke a rule; every later read then returns <c>InvalidData</c> at once.</summary>
    public MigrationError? Error { get; private set; }

    /// <summary>Reads every complete message in <paramref name="buffer"/>; <c>Done</c> when the input ended cleanly between messages.</summary>
    public OperationStatus Read<TVisitor>(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, ref TVisitor visitor)
        where TVisitor : IReturnPathVisitor, allows ref struct
    {
        if (Error is not null)
        {
            return OperationStatus.InvalidData;
        }

        while (!buffer.IsEmpty)
        {
            var span = buffer.FirstSpan;
            var status = ReadOne(span, ref visitor, out var consumed);
            if (status == OperationStatus.NeedMoreData && span.Length < buffer.Length)
            {
                var length = (int)Math.Min(buffer.Length, NeededLength(span));
                while (true)
                {
                    if (_scratch.Length < length)
                    {
                        _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
                    }

                    buffer.Slice(0, length).CopyTo(_scratch);
                    status = ReadOne(_scratch.AsSpan(0, length), ref visitor, out consumed);

                    // A first segment shorter than the length field gave only the header's size:
                    // the copy now holds the length, so take as much as it says.
                    var needed = status == OperationStatus.NeedMoreData ? (int)Math.Min(buffer.Length, NeededLength(_scratch.AsSpan(0, length))) : length;
                    if (needed <= length)
                    {
                        break;
                    }

                    length = needed;
                }
            }

            if (status == OperationStatus.InvalidData)
            {
                return status;
            }

            if (status == OperationStatus.NeedMoreData)
            {
                if (isFinalBlock)
                {
                    Error = new MigrationError(Position, _blobExpected ? "recv_bitmap_blob" : "rp_message", MigrationRules.Truncated,
                        $"truncated at 0x{Position:x}: the return path ends inside a {(_blobExpected ? "received-bitmap blob" : "message")}");
                    return OperationStatus.InvalidData;
                }

                return OperationStatus.NeedMoreData;
            }

            buffer = buffer.Slice(consumed);
            Position += consumed;
        }

        if (isFinalBlock && _blobExpected)
        {
            Error = new MigrationError(Position, "recv_bitmap_blob", MigrationRules.Truncated, "the return path ends before the received-bitmap blob");
            return OperationStatus.InvalidData;
        }

        return isFinalBlock ? OperationStatus.Done : OperationStatus.NeedMoreData;
    }

    /// <summary>How many bytes the record at the start needs, from its length fields (capped).</summary>
    private long NeededLength(ReadOnlySpan<byte> span)
    {
        if (_blobExpected)
        {
            return span.Length >= 8 ? Math.Min(maxBitmapSize, (long)Math.Min(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(span), (ulong)maxBitmapSize)) + 16 : 16;
        }

        return span.Length >= 4 ? 4 + System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(span.Slice(2)) : 4;
    }

    private OperationStatus ReadOne<TVisitor>(ReadOnlySpan<byte> span, ref TVisitor visitor, out int consumed)
        where TVisitor : IReturnPathVisitor, allows ref struct
    {
        if (_blobExpected)
        {
            if (span.Length >= 8 && System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(span) > (ulong)maxBitmapSize)
            {
                consumed = 0;
                return Fail(MigrationRules.BadBitmapBlob, "recv_bitmap_blob", $"a received bitmap of {System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(span)} bytes is over the cap of {maxBitmapSize}");
            }

            var blobStatus = RecvBitmapBlob.TryRead(span, out var blob, out consumed, out var blobError);
            if (blobStatus == OperationStatus.InvalidData)
            {
                return Fail(MigrationRules.BadBitmapBlob, blobError.Record, $"{blobError.Record}.{blobError.Field}: {blobError.Rule}", blobError.Offset);
            }

            if (blobStatus == OperationStatus.Done)
            {
                if (blob.LenBitmap % 8 != 0)
                {
                    return Fail(MigrationRules.BadBitmapBlob, "recv_bitmap_blob", $"the bitmap size {blob.LenBitmap} is not a whole number of 64-bit words");
                }

                if (_expectedBitmapSize is ulong expectedSize && blob.LenBitmap != expectedSize)
                {
                    return Fail(MigrationRules.BadBitmapBlob, "recv_bitmap_blob", $"the bitmap has {blob.LenBitmap} bytes, its block needs {expectedSize}");
                }

                visitor.OnReceivedBitmap(new RecordInfo(RecordKind.ReceivedBitmap, Position, span.Slice(0, consumed), 0, 0), blob);
                _blobExpected = false;
            }

            return blobStatus;
        }

        var status = RpMessage.TryRead(span, out var message, out consumed, out var error);
        if (status == OperationStatus.InvalidData)
        {
            var rule = error.Field == "payload" || error.Record != RpMessage.RecordName ? MigrationRules.MessageLength : MigrationRules.BadRecord;
            return Fail(rule, error.Record, $"{error.Record}.{error.Field}: {error.Rule}", error.Offset);
        }

        if (status != OperationStatus.Done)
        {
            return status;
        }

        var type = message.MsgType;
        if (type == MigRpMsg.Invalid || !type.IsDefined())
        {
            return Fail(MigrationRules.UnknownMessage, "rp_message", $"return-path message type {(ushort)type} is not a MIG_RP_MSG (1..7)");
        }

        var expected = type switch
        {
            MigRpMsg.Shut or MigRpMsg.Pong or MigRpMsg.ResumeAck => 4,
            MigRpMsg.ReqPages => 12,
            MigRpMsg.SwitchoverAck => 0,
            _ => -1,
        };
        if (expected >= 0 && message.LenPayload != expected)
        {
            return Fail(MigrationRules.MessageLength, "rp_message", $"{type.ToQemuName()} with a {message.LenPayload}-byte payload (QEMU requires {expected})", 2);
        }

        if (type is MigRpMsg.ReqPagesId or MigRpMsg.RecvBitmap && message.LenPayload == 0)
        {
            return Fail(MigrationRules.MessageLength, "rp_message", $"{type.ToQemuName()} with an empty payload", 2);
        }

        _expectedBitmapSize = null;
        if (type == MigRpMsg.RecvBitmap && blocks is not null)
        {
            var bitmapStatus = CheckBitmapBlock(message.Payload);
            if (bitmapStatus != OperationStatus.Done)
            {
                return bitmapStatus;
            }
        }

        visitor.OnMessage(new RecordInfo(RecordKind.ReturnPathMessage, Position, span.Slice(0, consumed), 0, 0), message);
        _blobExpected = type == MigRpMsg.RecvBitmap;
        return OperationStatus.Done;
    }

    /// <summary>The block a RECV_BITMAP names, and the bitmap size it implies (QEMU: one bit per target page, in 64-bit words).</summary>
    private OperationStatus CheckBitmapBlock(ReadOnlySpan<byte> payload)
    {
        if (RpRecvBitmap.TryRead(payload, out var recv, out var used, out _) != OperationStatus.Done || used != payload.Length)
        {
            return Fail(MigrationRules.MessageLength, "rp_recv_bitmap", "RECV_BITMAP payload is not a length byte and that many name bytes", 4);
        }

        foreach (var block in blocks!)
        {
            if (recv.BlockName.SequenceEqual(block.NameBytes))
            {
                var pages = block.UsedLength / (ulong)targetPageSize;
                _expectedBitmapSize = (pages + 63) / 64 * 8;
                return OperationStatus.Done;
            }
        }

        return Fail(MigrationRules.BadBitmapBlob, "rp_recv_bitmap", $"RECV_BITMAP for unknown block '{System.Text.Encoding.ASCII.GetString(recv.BlockName)}'", 5);
    }

    private OperationStatus Fail(MigrationRule rule, string record, string message, long offsetInRecord = 0)
    {
        Error = new MigrationError(Position + offsetInRecord, record, rule, message);
        return OperationStatus.InvalidData;
    }
}
