using System.Buffers;
using FsCheck;
using FsCheck.Fluent;

namespace Qmig.Wire.Tests.Properties.Cases;

// Cases for the records of spec/migration/command.ksy, each with its generator of valid values.

/// <param name="Payload">The payload as the writer takes it: a record of the command's case type written by its own writer, or raw bytes for commands without a case.</param>
/// <param name="PayloadCase">The case <paramref name="Payload"/> was written from (null for raw payloads); only for the printout.</param>
public sealed record CommandCase(MigCmd Cmd, Bytes Payload, WireCase? PayloadCase) : WireRecordCase<Command, Command.Sequenced>
{
    /// <summary>The commands whose payload is read as a record of its own (the switch-on cases).</summary>
    private static readonly Dictionary<MigCmd, Gen<WireCase>> PayloadCases = new()
    {
        [MigCmd.Ping] = PingCase.Values,
        [MigCmd.PostcopyAdvise] = PostcopyAdviseCase.QemuValues,
        [MigCmd.PostcopyRamDiscard] = PostcopyRamDiscardCase.Values,
        [MigCmd.Packaged] = PackagedCase.Values,
        [MigCmd.RecvBitmap] = RecvBitmapCase.Values,
    };

    /// <summary>
    /// Every command number: the switch cases with a payload from the case type's writer; the
    /// others (QEMU sends them empty) with an empty payload, and, because the spec reads any
    /// payload of a command without a case as raw bytes, some with raw bytes; and command numbers
    /// no QEMU knows, with raw bytes.
    /// </summary>
    public static Gen<WireCase> Values { get; } =
        Gen.Frequency(
            (3, Gen.Elements(PayloadCases.Keys.ToArray()).SelectMany(cmd => PayloadCases[cmd].Select(p => (WireCase)new CommandCase(cmd, new Bytes(p.EncodeForPayload()), p)))),
            (2, Gen.Elements(Enum.GetValues<MigCmd>().Where(c => !PayloadCases.ContainsKey(c)).ToArray()).Select(cmd => (WireCase)new CommandCase(cmd, Bytes.Empty, null))),
            (1, Gen.Zip(Gen.Choose(0, ushort.MaxValue).Select(v => (MigCmd)v).Where(c => !PayloadCases.ContainsKey(c)), WireGen.BytesOf(0, 300))
                .Select(t => (WireCase)new CommandCase(t.Item1, t.Item2, null))));

    public override int GetSize() => Command.GetSize(Cmd, Payload);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => Command.TryWrite(destination, Cmd, Payload, out written);

    public override void Write(IBufferWriter<byte> writer) => Command.Write(writer, Cmd, Payload);

    protected override Command Expected() => new(Cmd, (ushort)Payload.Length, Payload);

    protected override bool SequencedEquals(Command.Sequenced sequenced, Command span) => sequenced.ContentEquals(span);
}

public sealed record PingCase(uint Value) : PlainRecordCase<Ping>
{
    public static Gen<WireCase> Values { get; } =
        Gen.Frequency((1, Gen.Elements(0u, 1u, 2u, 3u, 4u, 0x42u)), (2, WireGen.U32)).Select(v => (WireCase)new PingCase(v));

    public override int GetSize() => Ping.GetSize(Value);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => Ping.TryWrite(destination, Value, out written);

    public override void Write(IBufferWriter<byte> writer) => Ping.Write(writer, Value);

    protected override Ping Expected() => new(Value);
}

/// <param name="LenPayload">The parameter (the command's payload length): the fields are there only when it is 16.</param>
public sealed record PostcopyAdviseCase(ushort LenPayload, ulong HostPageSizes, ulong TargetPageSize) : RecordCase<PostcopyAdvise, PostcopyAdvise>
{
    /// <summary>What QEMU sends: 0 or 16 bytes.</summary>
    public static Gen<WireCase> QemuValues { get; } =
        from len in Gen.Elements<ushort>(0, 16)
        from host in Gen.Frequency((1, Gen.Elements(0x1000UL, 0x201000UL)), (1, WireGen.U64))
        from target in Gen.Frequency((1, Gen.Constant(0x1000UL)), (1, WireGen.U64))
        select (WireCase)new PostcopyAdviseCase(len, host, target);

    /// <summary>Also other parameter values: the record is then empty (the fields' <c>if</c> is false), and the values given to the writer must not appear.</summary>
    public static Gen<WireCase> Values { get; } =
        Gen.Frequency(
            (3, QemuValues),
            (1, from len in WireGen.U16
                from host in WireGen.U64
                from target in WireGen.U64
                select (WireCase)new PostcopyAdviseCase(len, host, target)));

    private bool Present => LenPayload == 16;

    public override int GetSize() => PostcopyAdvise.GetSize(LenPayload, HostPageSizes, TargetPageSize);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) =>
        PostcopyAdvise.TryWrite(destination, LenPayload, HostPageSizes, TargetPageSize, out written);

    public override void Write(IBufferWriter<byte> writer) => PostcopyAdvise.Write(writer, LenPayload, HostPageSizes, TargetPageSize);

    protected override PostcopyAdvise Expected() => new(LenPayload, Present ? HostPageSizes : 0, Present ? TargetPageSize : 0);

    protected override OperationStatus ReadRecord(ReadOnlySpan<byte> source, out PostcopyAdvise value, out int consumed, out WireError error) =>
        PostcopyAdvise.TryRead(source, LenPayload, out value, out consumed, out error);

    protected override OperationStatus ReadRecord(in ReadOnlySequence<byte> source, out PostcopyAdvise value, out long consumed, out WireError error) =>
        PostcopyAdvise.TryRead(source, LenPayload, out value, out consumed, out error);

    protected override bool SpanEquals(PostcopyAdvise left, PostcopyAdvise right) => left.ContentEquals(right);

    protected override bool SequencedEquals(PostcopyAdvise sequenced, PostcopyAdvise span) => sequenced.ContentEquals(span);

    protected override OperationStatus WriteBack(PostcopyAdvise value, Span<byte> destination, out int written) => value.TryWriteTo(destination, out written);

    protected override int EncodedSizeOf(PostcopyAdvise value) => value.EncodedSize;
}

/// <param name="Ranges">The ranges, as the encoded <c>discard_range</c> elements the writer takes.</param>
public sealed record PostcopyRamDiscardCase(Bytes BlockName, Bytes Ranges, int Count) : WireRecordCase<PostcopyRamDiscard, PostcopyRamDiscard.Sequenced>
{
    /// <summary>Version 0 (<c>valid: 0</c>), any block name, 0 to 12 ranges (QEMU sends at most 12).</summary>
    public static Gen<WireCase> Values { get; } =
        from name in Gen.Frequency((1, Gen.Constant(new Bytes("pc.ram"u8.ToArray()))), (2, WireGen.BytesOf(0, 255)))
        from ranges in Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(DiscardRangeCase.Values, n))
        select (WireCase)new PostcopyRamDiscardCase(name, new Bytes(ranges.SelectMany(r => r.EncodeForPayload()).ToArray()), ranges.Length);

    public override bool IsSized => true;

    /// <summary>version, len_block_name, block_name and the NUL terminator come before the ranges.</summary>
    public override int SizedHeadLength => 3 + BlockName.Length;

    public override int GetSize() => PostcopyRamDiscard.GetSize(0, BlockName, Ranges);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => PostcopyRamDiscard.TryWrite(destination, 0, BlockName, Ranges, out written);

    public override void Write(IBufferWriter<byte> writer) => PostcopyRamDiscard.Write(writer, 0, BlockName, Ranges);

    protected override PostcopyRamDiscard Expected() => new(0, (byte)BlockName.Length, BlockName, new PostcopyRamDiscard.RangesList(Ranges, Count));

    protected override bool SequencedEquals(PostcopyRamDiscard.Sequenced sequenced, PostcopyRamDiscard span) => sequenced.ContentEquals(span);
}

public sealed record DiscardRangeCase(ulong Start, ulong Length) : PlainRecordCase<DiscardRange>
{
    public static Gen<WireCase> Values { get; } = Gen.Zip(WireGen.U64, WireGen.U64).Select(t => (WireCase)new DiscardRangeCase(t.Item1, t.Item2));

    public override int GetSize() => DiscardRange.GetSize(Start, Length);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => DiscardRange.TryWrite(destination, Start, Length, out written);

    public override void Write(IBufferWriter<byte> writer) => DiscardRange.Write(writer, Start, Length);

    protected override DiscardRange Expected() => new(Start, Length);
}

public sealed record PackagedCase(uint LenPackage) : PlainRecordCase<Packaged>
{
    public static Gen<WireCase> Values { get; } = WireGen.U32.Select(v => (WireCase)new PackagedCase(v));

    public override int GetSize() => Packaged.GetSize(LenPackage);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => Packaged.TryWrite(destination, LenPackage, out written);

    public override void Write(IBufferWriter<byte> writer) => Packaged.Write(writer, LenPackage);

    protected override Packaged Expected() => new(LenPackage);
}

public sealed record RecvBitmapCase(Bytes BlockName) : WireRecordCase<RecvBitmap, RecvBitmap.Sequenced>
{
    /// <summary>A block name of 1 to 255 bytes (<c>valid: min 1</c>).</summary>
    public static Gen<WireCase> Values { get; } = WireGen.BytesOf(1, 255).Select(n => (WireCase)new RecvBitmapCase(n));

    public override int GetSize() => RecvBitmap.GetSize(BlockName);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => RecvBitmap.TryWrite(destination, BlockName, out written);

    public override void Write(IBufferWriter<byte> writer) => RecvBitmap.Write(writer, BlockName);

    protected override RecvBitmap Expected() => new((byte)BlockName.Length, BlockName);

    protected override bool SequencedEquals(RecvBitmap.Sequenced sequenced, RecvBitmap span) => sequenced.ContentEquals(span);
}
