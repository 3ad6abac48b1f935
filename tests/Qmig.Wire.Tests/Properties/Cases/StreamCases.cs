using System.Buffers;
using FsCheck;
using FsCheck.Fluent;

namespace Qmig.Wire.Tests.Properties.Cases;

// Cases for the records of spec/migration/stream.ksy, each with its generator of valid values.

public sealed record FileHeaderCase : PlainRecordCase<FileHeader>
{
    /// <summary>The only value: the version is fixed by <c>valid: 3</c> and the magic is a constant.</summary>
    public static Gen<WireCase> Values { get; } = Gen.Constant<WireCase>(new FileHeaderCase());

    public override int GetSize() => FileHeader.GetSize(3);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => FileHeader.TryWrite(destination, 3, out written);

    public override void Write(IBufferWriter<byte> writer) => FileHeader.Write(writer, 3);

    protected override FileHeader Expected() => new(3);
}

public sealed record ConfigurationCase(Bytes Name) : WireRecordCase<Configuration, Configuration.Sequenced>
{
    public static Gen<WireCase> Values { get; } = WireGen.BytesOf(0, 300).Select(n => (WireCase)new ConfigurationCase(n));

    public override int GetSize() => Configuration.GetSize(Name);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => Configuration.TryWrite(destination, Name, out written);

    public override void Write(IBufferWriter<byte> writer) => Configuration.Write(writer, Name);

    protected override Configuration Expected() => new((uint)Name.Length, Name);

    protected override bool SequencedEquals(Configuration.Sequenced sequenced, Configuration span) => sequenced.ContentEquals(span);
}

public sealed record SubsectionHeaderCase(Bytes Name, uint VersionId) : WireRecordCase<SubsectionHeader, SubsectionHeader.Sequenced>
{
    public static Gen<WireCase> Values { get; } =
        Gen.Zip(WireGen.BytesOf(0, 255), WireGen.U32).Select(t => (WireCase)new SubsectionHeaderCase(t.Item1, t.Item2));

    public override int GetSize() => SubsectionHeader.GetSize(Name, VersionId);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => SubsectionHeader.TryWrite(destination, Name, VersionId, out written);

    public override void Write(IBufferWriter<byte> writer) => SubsectionHeader.Write(writer, Name, VersionId);

    protected override SubsectionHeader Expected() => new((byte)Name.Length, Name, VersionId);

    protected override bool SequencedEquals(SubsectionHeader.Sequenced sequenced, SubsectionHeader span) => sequenced.ContentEquals(span);
}

public sealed record ConfigTargetPageBitsCase(uint TargetPageBits) : PlainRecordCase<ConfigTargetPageBits>
{
    public static Gen<WireCase> Values { get; } = WireGen.U32.Select(v => (WireCase)new ConfigTargetPageBitsCase(v));

    public override int GetSize() => ConfigTargetPageBits.GetSize(TargetPageBits);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => ConfigTargetPageBits.TryWrite(destination, TargetPageBits, out written);

    public override void Write(IBufferWriter<byte> writer) => ConfigTargetPageBits.Write(writer, TargetPageBits);

    protected override ConfigTargetPageBits Expected() => new(TargetPageBits);
}

/// <param name="Caps">The capability names, as the encoded <c>capability_name</c> elements the writer takes.</param>
/// <param name="Count">How many elements <paramref name="Caps"/> holds (num_caps, which the writer derives).</param>
public sealed record ConfigCapabilitiesCase(Bytes Caps, int Count) : WireRecordCase<ConfigCapabilities, ConfigCapabilities.Sequenced>
{
    public static Gen<WireCase> Values { get; } =
        Gen.Choose(0, 6)
            .SelectMany(n => Gen.ArrayOf(CapabilityNameCase.Values, n))
            .Select(caps => (WireCase)new ConfigCapabilitiesCase(new Bytes(caps.SelectMany(c => c.EncodeForPayload()).ToArray()), caps.Length));

    public override int GetSize() => ConfigCapabilities.GetSize(Caps);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => ConfigCapabilities.TryWrite(destination, Caps, out written);

    public override void Write(IBufferWriter<byte> writer) => ConfigCapabilities.Write(writer, Caps);

    protected override ConfigCapabilities Expected() => new((uint)Count, new ConfigCapabilities.CapsList(Caps, Count));

    protected override bool SequencedEquals(ConfigCapabilities.Sequenced sequenced, ConfigCapabilities span) => sequenced.ContentEquals(span);
}

public sealed record CapabilityNameCase(Bytes Name) : WireRecordCase<CapabilityName, CapabilityName.Sequenced>
{
    public static Gen<WireCase> Values { get; } =
        Gen.Frequency(
            (1, Gen.Elements("x-ignore-shared", "mapped-ram").Select(s => new Bytes(System.Text.Encoding.ASCII.GetBytes(s)))),
            (2, WireGen.BytesOf(0, 255)))
        .Select(n => (WireCase)new CapabilityNameCase(n));

    public override int GetSize() => CapabilityName.GetSize(Name);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => CapabilityName.TryWrite(destination, Name, out written);

    public override void Write(IBufferWriter<byte> writer) => CapabilityName.Write(writer, Name);

    protected override CapabilityName Expected() => new((byte)Name.Length, Name);

    protected override bool SequencedEquals(CapabilityName.Sequenced sequenced, CapabilityName span) => sequenced.ContentEquals(span);
}

public sealed record ConfigUuidCase(Bytes Uuid) : WireRecordCase<ConfigUuid, ConfigUuid.Sequenced>
{
    public static Gen<WireCase> Values { get; } = WireGen.ExactBytes(16).Select(u => (WireCase)new ConfigUuidCase(u));

    public override int GetSize() => ConfigUuid.GetSize(Uuid);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => ConfigUuid.TryWrite(destination, Uuid, out written);

    public override void Write(IBufferWriter<byte> writer) => ConfigUuid.Write(writer, Uuid);

    protected override ConfigUuid Expected() => new(Uuid);

    protected override bool SequencedEquals(ConfigUuid.Sequenced sequenced, ConfigUuid span) => sequenced.ContentEquals(span);
}

public sealed record SectionHeaderStartFullCase(VmSectionType SectionType, uint SectionId, Bytes Idstr, uint InstanceId, uint VersionId)
    : WireRecordCase<SectionHeaderStartFull, SectionHeaderStartFull.Sequenced>
{
    /// <summary>START or FULL (<c>valid: any-of</c>), an idstr of 1 to 255 bytes (<c>valid: min 1</c>).</summary>
    public static Gen<WireCase> Values { get; } =
        from type in Gen.Elements(VmSectionType.SectionStart, VmSectionType.SectionFull)
        from id in WireGen.U32
        from idstr in WireGen.BytesOf(1, 255)
        from instance in WireGen.U32
        from version in WireGen.U32
        select (WireCase)new SectionHeaderStartFullCase(type, id, idstr, instance, version);

    public override int GetSize() => SectionHeaderStartFull.GetSize(SectionType, SectionId, Idstr, InstanceId, VersionId);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) =>
        SectionHeaderStartFull.TryWrite(destination, SectionType, SectionId, Idstr, InstanceId, VersionId, out written);

    public override void Write(IBufferWriter<byte> writer) => SectionHeaderStartFull.Write(writer, SectionType, SectionId, Idstr, InstanceId, VersionId);

    protected override SectionHeaderStartFull Expected() => new(SectionType, SectionId, (byte)Idstr.Length, Idstr, InstanceId, VersionId);

    protected override bool SequencedEquals(SectionHeaderStartFull.Sequenced sequenced, SectionHeaderStartFull span) => sequenced.ContentEquals(span);
}

public sealed record SectionHeaderPartEndCase(VmSectionType SectionType, uint SectionId) : PlainRecordCase<SectionHeaderPartEnd>
{
    /// <summary>PART or END (<c>valid: any-of</c>).</summary>
    public static Gen<WireCase> Values { get; } =
        Gen.Zip(Gen.Elements(VmSectionType.SectionPart, VmSectionType.SectionEnd), WireGen.U32)
            .Select(t => (WireCase)new SectionHeaderPartEndCase(t.Item1, t.Item2));

    public override int GetSize() => SectionHeaderPartEnd.GetSize(SectionType, SectionId);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => SectionHeaderPartEnd.TryWrite(destination, SectionType, SectionId, out written);

    public override void Write(IBufferWriter<byte> writer) => SectionHeaderPartEnd.Write(writer, SectionType, SectionId);

    protected override SectionHeaderPartEnd Expected() => new(SectionType, SectionId);
}

public sealed record SectionFooterCase(uint SectionId) : PlainRecordCase<SectionFooter>
{
    public static Gen<WireCase> Values { get; } = WireGen.U32.Select(v => (WireCase)new SectionFooterCase(v));

    public override int GetSize() => SectionFooter.GetSize(SectionId);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => SectionFooter.TryWrite(destination, SectionId, out written);

    public override void Write(IBufferWriter<byte> writer) => SectionFooter.Write(writer, SectionId);

    protected override SectionFooter Expected() => new(SectionId);
}

public sealed record EndOfSectionsCase : PlainRecordCase<EndOfSections>
{
    /// <summary>The only value: the record is the constant EOF byte.</summary>
    public static Gen<WireCase> Values { get; } = Gen.Constant<WireCase>(new EndOfSectionsCase());

    public override int GetSize() => EndOfSections.GetSize();

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => EndOfSections.TryWrite(destination, out written);

    public override void Write(IBufferWriter<byte> writer) => EndOfSections.Write(writer);

    protected override EndOfSections Expected() => default;
}

public sealed record VmDescriptionCase(Bytes Json) : WireRecordCase<VmDescription, VmDescription.Sequenced>
{
    public static Gen<WireCase> Values { get; } = WireGen.BytesOf(0, 1000).Select(j => (WireCase)new VmDescriptionCase(j));

    public override int GetSize() => VmDescription.GetSize(Json);

    public override OperationStatus TryWrite(Span<byte> destination, out int written) => VmDescription.TryWrite(destination, Json, out written);

    public override void Write(IBufferWriter<byte> writer) => VmDescription.Write(writer, Json);

    protected override VmDescription Expected() => new((uint)Json.Length, Json);

    protected override bool SequencedEquals(VmDescription.Sequenced sequenced, VmDescription span) => sequenced.ContentEquals(span);
}
