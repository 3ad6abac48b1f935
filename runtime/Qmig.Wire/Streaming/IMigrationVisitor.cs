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

    void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body);

    void OnSectionFooter(in RecordInfo record, SectionInfo section);

    void OnCommand(in RecordInfo record, in Command command);

    void OnEndOfSections(in RecordInfo record);

    void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json);
}
