using Qmig.Wire;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary>Applies every page to the block images (<see cref="RamImageVisitor"/>); hands sections, blocks, bodies and the vmdesc to the state collector.</summary>
internal readonly struct ExtractVisitor(RamImageSet images, ExtractResult result) : IMigrationVisitor
{
    private readonly RamImageVisitor _pages = new(images);

    public void OnFileHeader(in RecordInfo record, uint version)
    {
    }

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
    {
    }

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
    {
    }

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) => result.State.OnSectionHeader(record.Kind, section);

    public void OnRamBlock(in RecordInfo record, RamBlock block)
    {
        _pages.OnRamBlock(record, block);
        result.State.OnRamBlock(record.SectionId, block);
    }

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block) => _pages.OnRamRecord(record, ram, block);

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
    {
    }

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
    {
    }

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => _pages.OnRamPages(record, block, offset, pages);

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) =>
        result.State.OnDeviceBody(section, record.Offset, body);

    public void OnSectionFooter(in RecordInfo record, SectionInfo section)
    {
    }

    public void OnCommand(in RecordInfo record, in Command command)
    {
    }

    public void OnEndOfSections(in RecordInfo record)
    {
    }

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
    {
        result.VmDescriptionJson = json.ToArray();
        result.VmDescriptionOffset = record.Offset + record.Length - json.Length;
    }
}
