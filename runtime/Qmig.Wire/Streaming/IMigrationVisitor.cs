namespace Qmig.Wire.Streaming;

/// <summary>
/// Receives every record the reader reads, in stream order. Pass a struct implementing it to
/// <see cref="MigrationStreamReader.Read{TVisitor}"/>: the generic constraint lets the JIT
/// devirtualize the calls on the RAM hot path. Spans are valid only during the call.
/// </summary>
public interface IMigrationVisitor
{
    /// <summary>The QEVM header that opens a main stream, with its format <paramref name="version"/> (3).</summary>
    void OnFileHeader(in RecordInfo record, uint version);

    /// <summary>The configuration record: <paramref name="machineName"/> is the machine type (e.g. <c>pc-i440fx-7.2</c>) the destination must run.</summary>
    void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName);

    /// <summary>A configuration subsection by <paramref name="name"/> and <paramref name="version"/>, its <paramref name="body"/> undecoded.</summary>
    void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body);

    /// <summary>A SECTION_START, PART, END or FULL header; <see cref="RecordInfo.Kind"/> tells which, <paramref name="section"/> what it is.</summary>
    void OnSectionHeader(in RecordInfo record, SectionInfo section);

    /// <summary>One entry of the RAM block list; later RAM records and page requests refer to <paramref name="block"/>.</summary>
    void OnRamBlock(in RecordInfo record, RamBlock block);

    /// <summary>A RAM record; <paramref name="block"/> is the block it addresses (null for MEM_SIZE, EOS, MULTIFD_FLUSH).</summary>
    void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block);

    /// <summary>mapped-ram: the header after a block-list entry; the block's bitmap and pages follow later in the file.</summary>
    void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header);

    /// <summary>mapped-ram: the block's page bitmap (little-endian 64-bit words, bit i set = page i is in the file).</summary>
    void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap);

    /// <summary>
    /// Consecutive whole pages with their final content, starting at <paramref name="offset"/> in
    /// <paramref name="block"/> (mapped-ram's pages region); the reader has checked that they lie
    /// inside the block. A run of present pages may arrive in several calls.
    /// </summary>
    void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages);

    /// <summary>The state bytes of a device section, ending where its footer or the vmdesc says they end.</summary>
    void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body);

    /// <summary>The footer that closes <paramref name="section"/>; the reader has checked that its id matches.</summary>
    void OnSectionFooter(in RecordInfo record, SectionInfo section);

    /// <summary>A MIG_CMD, already checked against the postcopy state machine; PACKAGED contents follow as records at depth + 1.</summary>
    void OnCommand(in RecordInfo record, in Command command);

    /// <summary>QEMU_VM_EOF: the device sections are over; a vmdesc may follow.</summary>
    void OnEndOfSections(in RecordInfo record);

    /// <summary>The VMDESCRIPTION <paramref name="json"/> after the device sections, for decoding device bodies field by field.</summary>
    void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json);
}
