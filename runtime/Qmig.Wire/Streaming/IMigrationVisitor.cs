namespace Qmig.Wire.Streaming;

/// <summary>
/// Receives every record the reader reads, in stream order. Pass a struct implementing it to
/// <see cref="MigrationStreamReader.Read{TVisitor}"/>: the generic constraint lets the JIT
/// devirtualize the calls on the RAM hot path. Spans are valid only during the call.
/// </summary>
public interface IMigrationVisitor
{
    void OnFileHeader(in RecordInfo record, uint version);

    void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName);

    void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body);

    void OnSectionHeader(in RecordInfo record, SectionInfo section);

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

    void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body);

    void OnSectionFooter(in RecordInfo record, SectionInfo section);

    void OnCommand(in RecordInfo record, in Command command);

    void OnEndOfSections(in RecordInfo record);

    void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json);
}
