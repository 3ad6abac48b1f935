using Qmig.Wire.Streaming;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>Counts records by kind and RAM records by flag, and remembers the last error-free offset.</summary>
public sealed class RecordCounts
{
    public Dictionary<string, int> Records { get; } = new();

    public Dictionary<string, int> RamFlags { get; } = new();

    public Dictionary<string, int> Commands { get; } = new();

    public List<string> Log { get; } = [];

    public long LastEnd { get; set; }

    public int Total => Records.Values.Sum();
}

public struct CountingVisitor(RecordCounts counts, bool log = false) : IMigrationVisitor
{
    private void Count(in RecordInfo record, string? detail = null)
    {
        var name = record.Kind.QemuName();
        counts.Records[name] = counts.Records.GetValueOrDefault(name) + 1;
        counts.LastEnd = record.Offset + record.Length;
        if (log)
        {
            counts.Log.Add($"{record.Offset:x8} {record.Length,6} d{record.Depth} {name} {detail}");
        }
    }

    public void OnFileHeader(in RecordInfo record, uint version) => Count(record);

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => Count(record, System.Text.Encoding.ASCII.GetString(machineName));

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) => Count(record);

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) => Count(record, section.ToString());

    public void OnRamBlock(in RecordInfo record, RamBlock block) => Count(record, block.ToString());

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        Count(record);
        foreach (var flag in Enum.GetValues<RamSaveFlag>())
        {
            if (((ulong)ram.Flags & (ulong)flag) != 0)
            {
                var name = flag.ToQemuName()!.Replace("RAM_SAVE_FLAG_", "");
                counts.RamFlags[name] = counts.RamFlags.GetValueOrDefault(name) + 1;
            }
        }
    }

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) => Count(record, block.ToString());

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) => Count(record, block.ToString());

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => Count(record, $"{block}@{offset:x}");

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) => Count(record, section.ToString());

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => Count(record);

    public void OnCommand(in RecordInfo record, in Command command)
    {
        Count(record);
        var name = command.Cmd.ToQemuName() ?? "?";
        counts.Commands[name] = counts.Commands.GetValueOrDefault(name) + 1;
    }

    public void OnEndOfSections(in RecordInfo record) => Count(record);

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => Count(record);
}
