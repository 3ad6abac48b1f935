using System.Buffers;
using FsCheck;
using FsCheck.Fluent;

namespace Qmig.Wire.Tests.Properties.Cases;

// Cases for the records of spec/migration/return_path.ksy, each with its generator of valid values.

/// <param name="Payload">The payload as the writer takes it: a record of the message's case type written by its own writer, or raw bytes for types without a case.</param>
/// <param name="PayloadCase">The case <paramref name="Payload"/> was written from (null for raw payloads); only for the printout.</param>
public sealed record RpMessageCase(MigRpMsg MsgType, Bytes Payload, WireCase? PayloadCase) : WireRecordCase<RpMessage, RpMessage.Sequenced>
{
    /// <summary>The message types whose payload is read as a record of its own (the switch-on cases).</summary>
    private static readonly Dictionary<MigRpMsg, Gen<WireCase>> PayloadCases = new()
    {
        [MigRpMsg.Shut] = ShutCase.Values,
        [MigRpMsg.Pong] = PongCase.Values,
        [MigRpMsg.ReqPagesId] = ReqPagesIdCase.Values,
        [MigRpMsg.ReqPages] = ReqPagesCase.Values,
        [MigRpMsg.RecvBitmap] = RpRecvBitmapCase.Values,
        [MigRpMsg.ResumeAck] = ResumeAckCase.Values,
    };

    /// <summary>
    /// Every message type: the switch cases with a payload from the case type's writer; the others
    /// (INVALID, SWITCHOVER_ACK) empty as QEMU sends them; and types no QEMU knows with raw payloads
    /// of up to 512 bytes (<c>valid: max 512</c> on the length).
    /// </summary>
    public static Gen<WireCase> Values { get; } =
        Gen.Frequency(
            (3, Gen.Elements(PayloadCases.Keys.ToArray()).SelectMany(type => PayloadCases[type].Select(p => (WireCase)new RpMessageCase(type, new Bytes(p.EncodeForPayload()), p)))),
            (1, Gen.Elements(Enum.GetValues<MigRpMsg>().Where(t => !PayloadCases.ContainsKey(t)).ToArray()).Select(type => (WireCase)new RpMessageCase(type, Bytes.Empty, null))),
            (1, Gen.Zip(Gen.Choose(0, ushort.MaxValue).Select(v => (MigRpMsg)v).Where(t => !PayloadCases.ContainsKey(t)), WireGen.BytesOf(0, 512))
                .Select(t => (WireCase)new RpMessageCase(t.Item1, t.Item2, null))));

    public override int GetSize() => RpMessage.GetSize(MsgType, Payload);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => RpMessage.TryWrite(destination, MsgType, Payload, out written);

    public override void Write(IBufferWriter<byte> writer) => RpMessage.Write(writer, MsgType, Payload);

    protected override RpMessage Expected() => new(MsgType, (ushort)Payload.Length, Payload);

    protected override bool SequencedEquals(RpMessage.Sequenced sequenced, RpMessage span) => sequenced.ContentEquals(span);
}

public sealed record ShutCase(uint Status) : PlainRecordCase<Shut>
{
    public static Gen<WireCase> Values { get; } = WireGen.U32.Select(v => (WireCase)new ShutCase(v));

    public override int GetSize() => Shut.GetSize(Status);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => Shut.TryWrite(destination, Status, out written);

    public override void Write(IBufferWriter<byte> writer) => Shut.Write(writer, Status);

    protected override Shut Expected() => new(Status);
}

public sealed record PongCase(uint Value) : PlainRecordCase<Pong>
{
    public static Gen<WireCase> Values { get; } = WireGen.U32.Select(v => (WireCase)new PongCase(v));

    public override int GetSize() => Pong.GetSize(Value);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => Pong.TryWrite(destination, Value, out written);

    public override void Write(IBufferWriter<byte> writer) => Pong.Write(writer, Value);

    protected override Pong Expected() => new(Value);
}

public sealed record ReqPagesIdCase(ulong Start, uint Length, Bytes BlockName) : WireRecordCase<ReqPagesId, ReqPagesId.Sequenced>
{
    public static Gen<WireCase> Values { get; } =
        from start in WireGen.U64
        from length in WireGen.U32
        from name in WireGen.BytesOf(0, 255)
        select (WireCase)new ReqPagesIdCase(start, length, name);

    public override int GetSize() => ReqPagesId.GetSize(Start, Length, BlockName);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => ReqPagesId.TryWrite(destination, Start, Length, BlockName, out written);

    public override void Write(IBufferWriter<byte> writer) => ReqPagesId.Write(writer, Start, Length, BlockName);

    protected override ReqPagesId Expected() => new(Start, Length, (byte)BlockName.Length, BlockName);

    protected override bool SequencedEquals(ReqPagesId.Sequenced sequenced, ReqPagesId span) => sequenced.ContentEquals(span);
}

public sealed record ReqPagesCase(ulong Start, uint Length) : PlainRecordCase<ReqPages>
{
    public static Gen<WireCase> Values { get; } = Gen.Zip(WireGen.U64, WireGen.U32).Select(t => (WireCase)new ReqPagesCase(t.Item1, t.Item2));

    public override int GetSize() => ReqPages.GetSize(Start, Length);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => ReqPages.TryWrite(destination, Start, Length, out written);

    public override void Write(IBufferWriter<byte> writer) => ReqPages.Write(writer, Start, Length);

    protected override ReqPages Expected() => new(Start, Length);
}

public sealed record RpRecvBitmapCase(Bytes BlockName) : WireRecordCase<RpRecvBitmap, RpRecvBitmap.Sequenced>
{
    public static Gen<WireCase> Values { get; } = WireGen.BytesOf(0, 255).Select(n => (WireCase)new RpRecvBitmapCase(n));

    public override int GetSize() => RpRecvBitmap.GetSize(BlockName);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => RpRecvBitmap.TryWrite(destination, BlockName, out written);

    public override void Write(IBufferWriter<byte> writer) => RpRecvBitmap.Write(writer, BlockName);

    protected override RpRecvBitmap Expected() => new((byte)BlockName.Length, BlockName);

    protected override bool SequencedEquals(RpRecvBitmap.Sequenced sequenced, RpRecvBitmap span) => sequenced.ContentEquals(span);
}

public sealed record ResumeAckCase : PlainRecordCase<ResumeAck>
{
    /// <summary>The only value: <c>valid: 1</c>.</summary>
    public static Gen<WireCase> Values { get; } = Gen.Constant<WireCase>(new ResumeAckCase());

    public override int GetSize() => ResumeAck.GetSize(1);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => ResumeAck.TryWrite(destination, 1, out written);

    public override void Write(IBufferWriter<byte> writer) => ResumeAck.Write(writer, 1);

    protected override ResumeAck Expected() => new(1);
}

public sealed record RecvBitmapBlobCase(Bytes Bitmap) : WireRecordCase<RecvBitmapBlob, RecvBitmapBlob.Sequenced>
{
    /// <summary>RAMBLOCK_RECV_BITMAP_ENDING, the only end marker (<c>valid</c>).</summary>
    public const ulong EndMarker = 0x0123456789ABCDEF;

    /// <summary>Bitmaps of whole u64 words, as QEMU sends them, and of any length, which the spec allows.</summary>
    public static Gen<WireCase> Values { get; } =
        Gen.Frequency((1, Gen.Choose(0, 64).SelectMany(words => WireGen.ExactBytes(words * 8))), (1, WireGen.BytesOf(0, 600)))
            .Select(b => (WireCase)new RecvBitmapBlobCase(b));

    public override int GetSize() => RecvBitmapBlob.GetSize(Bitmap, EndMarker);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => RecvBitmapBlob.TryWrite(destination, Bitmap, EndMarker, out written);

    public override void Write(IBufferWriter<byte> writer) => RecvBitmapBlob.Write(writer, Bitmap, EndMarker);

    protected override RecvBitmapBlob Expected() => new((ulong)Bitmap.Length, Bitmap, EndMarker);

    protected override bool SequencedEquals(RecvBitmapBlob.Sequenced sequenced, RecvBitmapBlob span) => sequenced.ContentEquals(span);
}
