using Qmig.Wire.Streaming;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>One line per record (kind, offset, length, depth, section, a content hash) to compare two readings.</summary>
public sealed class RecordLog
{
    public List<string> Lines { get; } = [];

    public List<long> Boundaries { get; } = [];

    public static RecordLog ReadWhole(byte[] stream, MigrationReaderOptions? options = null)
    {
        var log = new RecordLog();
        var reader = new MigrationStreamReader(options);
        var visitor = new RecordLogVisitor(log);
        var sequence = new System.Buffers.ReadOnlySequence<byte>(stream);
        var status = reader.Read(ref sequence, true, ref visitor);
        if (status != System.Buffers.OperationStatus.Done)
        {
            throw new InvalidOperationException($"the whole stream does not read: {reader.Error}");
        }

        return log;
    }
}

public readonly struct RecordLogVisitor(RecordLog log) : IMigrationVisitor
{
    private void Add(in RecordInfo record, string detail = "")
    {
        log.Lines.Add($"{record.Kind} {record.Offset:x} {record.Length} d{record.Depth} s{record.SectionId} {Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(record.Raw))} {detail}");
        log.Boundaries.Add(record.Offset);
    }

    public void OnFileHeader(in RecordInfo record, uint version) => Add(record);

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => Add(record);

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) => Add(record);

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) => Add(record, section.Idstr);

    public void OnRamBlock(in RecordInfo record, RamBlock block) => Add(record, block.Name);

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block) => Add(record, $"{block?.Name}@{ram.Offset:x}");

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) => Add(record, $"{block.Name} bitmap@{header.BitmapOffset:x} pages@{header.PagesOffset:x}");

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) => Add(record, block.Name);

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => Add(record, $"{block.Name}@{offset:x}");

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) => Add(record, section.Idstr);

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => Add(record);

    public void OnCommand(in RecordInfo record, in Command command) => Add(record, command.Cmd.ToString());

    public void OnEndOfSections(in RecordInfo record) => Add(record);

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => Add(record);
}
