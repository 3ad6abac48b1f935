namespace Qmig.Wire.Streaming;

/// <summary>What kind of thing the reader just read; <see cref="RecordKindNames"/> gives QEMU's names.</summary>
public enum RecordKind : byte
{
    FileHeader,
    Configuration,
    ConfigurationSubsection,
    SectionStart,
    SectionPart,
    SectionEnd,
    SectionFull,
    RamBlock,
    RamRecord,
    DeviceBody,
    SectionFooter,
    Command,
    EndOfSections,
    VmDescription,
    ReturnPathMessage,
    ReceivedBitmap,
    MappedRamHeader,
    MappedRamBitmap,
    MappedRamPages,
}

public static class RecordKindNames
{
    /// <summary>The QEMU_VM_* name without its prefix, as <c>qmig stats</c> counts records.</summary>
    public static string QemuName(this RecordKind kind) => kind switch
    {
        RecordKind.FileHeader => "FILE_HEADER",
        RecordKind.Configuration => "CONFIGURATION",
        RecordKind.ConfigurationSubsection => "SUBSECTION",
        RecordKind.SectionStart => "SECTION_START",
        RecordKind.SectionPart => "SECTION_PART",
        RecordKind.SectionEnd => "SECTION_END",
        RecordKind.SectionFull => "SECTION_FULL",
        RecordKind.RamBlock => "RAM_BLOCK",
        RecordKind.RamRecord => "RAM_RECORD",
        RecordKind.DeviceBody => "DEVICE_BODY",
        RecordKind.SectionFooter => "SECTION_FOOTER",
        RecordKind.Command => "COMMAND",
        RecordKind.EndOfSections => "EOF",
        RecordKind.VmDescription => "VMDESCRIPTION",
        RecordKind.ReturnPathMessage => "RP_MESSAGE",
        RecordKind.ReceivedBitmap => "RP_RECV_BITMAP_BLOB",
        RecordKind.MappedRamHeader => "MAPPED_RAM_HEADER",
        RecordKind.MappedRamBitmap => "MAPPED_RAM_BITMAP",
        RecordKind.MappedRamPages => "MAPPED_RAM_PAGES",
        _ => kind.ToString(),
    };

    /// <summary>True for the top-level records of QEMU's section loop (not RAM records or bodies inside a section).</summary>
    public static bool IsTopLevel(this RecordKind kind) => kind is RecordKind.Configuration or RecordKind.SectionStart
        or RecordKind.SectionPart or RecordKind.SectionEnd or RecordKind.SectionFull or RecordKind.SectionFooter
        or RecordKind.Command or RecordKind.EndOfSections or RecordKind.VmDescription;
}

/// <summary>
/// Where a record sits: absolute offset, PACKAGED nesting depth, its section (0 outside one), and
/// its raw bytes (valid during the visitor call only).
/// </summary>
public readonly ref struct RecordInfo(RecordKind kind, long offset, ReadOnlySpan<byte> raw, int depth, uint sectionId)
{
    public RecordKind Kind { get; } = kind;

    public long Offset { get; } = offset;

    public ReadOnlySpan<byte> Raw { get; } = raw;

    public int Length => Raw.Length;

    public int Depth { get; } = depth;

    public uint SectionId { get; } = sectionId;
}

/// <summary>A section as its START or FULL header announced it.</summary>
public sealed class SectionInfo(uint id, string idstr, uint instanceId, uint versionId, bool isRam)
{
    public uint Id { get; } = id;

    public string Idstr { get; } = idstr;

    public uint InstanceId { get; } = instanceId;

    public uint VersionId { get; } = versionId;

    public bool IsRam { get; } = isRam;

    /// <summary>The vmdesc entry of a FULL device section, when a vmdesc is known.</summary>
    public VmDescriptionDevice? Description { get; internal set; }

    public override string ToString() => $"'{Idstr}' (id {Id}, instance {InstanceId}, version {VersionId})";
}

/// <summary>A RAM block from the MEM_SIZE list.</summary>
public sealed class RamBlock(int index, byte[] name, ulong usedLength, ulong? pageSize, ulong? mrAddr)
{
    public int Index { get; } = index;

    public byte[] NameBytes { get; } = name;

    public string Name { get; } = System.Text.Encoding.UTF8.GetString(name);

    public ulong UsedLength { get; } = usedLength;

    /// <summary>The block's page size when the block list carried it (postcopy with huge pages).</summary>
    public ulong? PageSize { get; } = pageSize;

    /// <summary>The guest-physical address of the block's region (x-ignore-shared).</summary>
    public ulong? MrAddr { get; } = mrAddr;

    public override string ToString() => $"'{Name}' ({UsedLength} bytes)";
}
