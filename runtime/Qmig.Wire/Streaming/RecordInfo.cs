namespace Qmig.Wire.Streaming;

/// <summary>What kind of thing the reader just read; <see cref="RecordKindNames"/> gives QEMU's names.</summary>
public enum RecordKind : byte
{
    /// <summary>The QEVM magic and version that open a main stream.</summary>
    FileHeader,
    /// <summary>QEMU_VM_CONFIGURATION: the machine type the destination must match.</summary>
    Configuration,
    /// <summary>A subsection of the configuration record (e.g. capabilities, page sizes).</summary>
    ConfigurationSubsection,
    /// <summary>QEMU_VM_SECTION_START: a live section (RAM, block dirty bitmaps) begins, with its idstr.</summary>
    SectionStart,
    /// <summary>QEMU_VM_SECTION_PART: more of a live section; for RAM, one precopy round.</summary>
    SectionPart,
    /// <summary>QEMU_VM_SECTION_END: the last part of a live section, sent when the source stops the guest.</summary>
    SectionEnd,
    /// <summary>QEMU_VM_SECTION_FULL: a device's whole state in one section, with its idstr.</summary>
    SectionFull,
    /// <summary>One entry of the RAM block list (name and used length) in the RAM section's first part.</summary>
    RamBlock,
    /// <summary>One RAM record inside a RAM section: a page, a zero page, an XBZRLE delta, an EOS.</summary>
    RamRecord,
    /// <summary>The opaque state bytes of a device section (decoded field by field only with a vmdesc).</summary>
    DeviceBody,
    /// <summary>QEMU_VM_SECTION_FOOTER: the id that closes a section, to catch a body of the wrong size.</summary>
    SectionFooter,
    /// <summary>QEMU_VM_COMMAND: a MIG_CMD (OPEN_RETURN_PATH, PING, POSTCOPY_*, PACKAGED, ...).</summary>
    Command,
    /// <summary>QEMU_VM_EOF: the end of the device sections.</summary>
    EndOfSections,
    /// <summary>The JSON VMDESCRIPTION after QEMU_VM_EOF, describing each device's fields.</summary>
    VmDescription,
    /// <summary>A message on the return path, from the destination back to the source.</summary>
    ReturnPathMessage,
    /// <summary>The received-pages bitmap a destination sends on the return path when postcopy recovers.</summary>
    ReceivedBitmap,
    /// <summary>The mapped-ram header of a block: where its bitmap and page area lie in the file.</summary>
    MappedRamHeader,
    /// <summary>The bitmap of a mapped-ram block: which pages its page area holds.</summary>
    MappedRamBitmap,
    /// <summary>The page area of a mapped-ram block, pages at fixed file offsets.</summary>
    MappedRamPages,
}

/// <summary>QEMU's names for <see cref="RecordKind"/> values, for output that matches QEMU's vocabulary.</summary>
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
    /// <summary>What was read; it tells which visitor arguments describe the record.</summary>
    public RecordKind Kind { get; } = kind;

    /// <summary>Where the record's first byte is: from the start of the file, which is the stream's start unless <see cref="MigrationReaderOptions.StartOffset"/> says otherwise.</summary>
    public long Offset { get; } = offset;

    /// <summary>The record as it is on the wire, header included; copy it to keep it past the visitor call.</summary>
    public ReadOnlySpan<byte> Raw { get; } = raw;

    /// <summary>How many bytes the record takes on the wire.</summary>
    public int Length => Raw.Length;

    /// <summary>How many PACKAGED commands enclose the record: 0 in the main stream, 1 inside a package.</summary>
    public int Depth { get; } = depth;

    /// <summary>The id of the section the record belongs to, or 0 outside any section.</summary>
    public uint SectionId { get; } = sectionId;
}

/// <summary>A section as its START or FULL header announced it.</summary>
public sealed class SectionInfo(uint id, string idstr, uint instanceId, uint versionId, bool isRam)
{
    /// <summary>The section id that later PART, END and footer records refer to.</summary>
    public uint Id { get; } = id;

    /// <summary>QEMU's name for the device or subsystem, e.g. <c>ram</c> or <c>0000:00:02.0/virtio-blk</c>.</summary>
    public string Idstr { get; } = idstr;

    /// <summary>Tells apart devices of one kind (the second serial port has instance 1).</summary>
    public uint InstanceId { get; } = instanceId;

    /// <summary>The version of the section's format, which decides how its body is laid out.</summary>
    public uint VersionId { get; } = versionId;

    /// <summary>True for the <c>ram</c> section, whose body is RAM records rather than device state.</summary>
    public bool IsRam { get; } = isRam;

    /// <summary>The vmdesc entry of a FULL device section, when a vmdesc is known.</summary>
    public VmDescriptionDevice? Description { get; internal set; }

    /// <summary>The section as an error message names it: idstr, id, instance and version.</summary>
    public override string ToString() => $"'{Idstr}' (id {Id}, instance {InstanceId}, version {VersionId})";
}

/// <summary>A RAM block from the MEM_SIZE list.</summary>
public sealed class RamBlock(int index, byte[] name, ulong usedLength, ulong? pageSize, ulong? mrAddr)
{
    /// <summary>The block's position in the block list, which mapped-ram and page requests index by.</summary>
    public int Index { get; } = index;

    /// <summary>The block name exactly as sent, for writing it back or comparing without decoding.</summary>
    public byte[] NameBytes { get; } = name;

    /// <summary>The block name, e.g. <c>pc.ram</c>; RAM records and page requests name blocks this way.</summary>
    public string Name { get; } = System.Text.Encoding.UTF8.GetString(name);

    /// <summary>The bytes of the block in use, which bounds every page offset in it.</summary>
    public ulong UsedLength { get; } = usedLength;

    /// <summary>The block's page size when the block list carried it (postcopy with huge pages).</summary>
    public ulong? PageSize { get; } = pageSize;

    /// <summary>The guest-physical address of the block's region (x-ignore-shared).</summary>
    public ulong? MrAddr { get; } = mrAddr;

    /// <summary>The block as error messages name it: name and used length.</summary>
    public override string ToString() => $"'{Name}' ({UsedLength} bytes)";
}
