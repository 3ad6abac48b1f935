using Qmig.Wire.Streaming;
using Qmig.Wire.VmState;

namespace Qmig.Wire.Extraction;

/// <summary>
/// Applies every page to the block images (<see cref="RamImageVisitor"/>); hands sections, blocks
/// and bodies to the state collector, and keeps the stream's own vmdesc.
/// </summary>
internal readonly struct StreamExtractionVisitor(RamImageSet images, StreamExtractionVisitor.Collected collected) : IMigrationVisitor
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

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) => collected.State.OnSectionHeader(record.Kind, section);

    public void OnRamBlock(in RecordInfo record, RamBlock block)
    {
        _pages.OnRamBlock(record, block);
        collected.State.OnRamBlock(record.SectionId, block);
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
        collected.State.OnDeviceBody(section, record.Offset, body);

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
        collected.VmDescriptionJson = json.ToArray();
        collected.VmDescriptionOffset = record.Offset + record.Length - json.Length;
    }

    /// <summary>What extraction keeps besides the RAM images: what the state is built from, and the stream's own vmdesc.</summary>
    internal sealed class Collected
    {
        public MigrationStateCollector State { get; } = new();

        public byte[]? VmDescriptionJson { get; set; }

        /// <summary>Where <see cref="VmDescriptionJson"/> starts in the file.</summary>
        public long VmDescriptionOffset { get; set; }
    }
}
