using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Fuzz;

/// <summary>Applies every page record to a <see cref="FuzzImage"/>, as extraction applies them to files.</summary>
public readonly struct FuzzImageVisitor(FuzzImage image) : IMigrationVisitor
{
    public void OnFileHeader(in RecordInfo record, uint version) => image.Saw(record);

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => image.Saw(record);

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) => image.Saw(record);

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) => image.Saw(record);

    public void OnRamBlock(in RecordInfo record, RamBlock block) => image.Saw(record);

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        image.Saw(record);
        if (block is not null)
        {
            image.Apply(ram, block, (int)ram.TargetPageSize);
        }
    }

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) => image.Saw(record);

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) => image.Saw(record);

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) => image.Saw(record);

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
    {
        image.Saw(record);
        image.CheckPages(block, offset, pages.Length);
    }

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => image.Saw(record);

    public void OnCommand(in RecordInfo record, in Command command) => image.Saw(record);

    public void OnEndOfSections(in RecordInfo record) => image.Saw(record);

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => image.Saw(record);
}
