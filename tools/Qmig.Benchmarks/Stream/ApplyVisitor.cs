using Qmig.Wire;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;

namespace Qmig.Benchmarks.Stream;

/// <summary>
/// The RAM half of <c>qmig extract</c>'s visitor (tools/Qmig.Cli ExtractVisitor): every page
/// record and mapped-ram run applied to the block images. Blocks are registered once in the
/// benchmark's setup, so iterations measure applying pages, not creating files.
/// </summary>
public readonly struct ApplyVisitor(RamImageSet images) : IMigrationVisitor
{
    public void OnFileHeader(in RecordInfo record, uint version) { }

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) { }

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) { }

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) { }

    public void OnRamBlock(in RecordInfo record, RamBlock block) { }

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (block is not null)
        {
            images.Apply(ram, block);
        }
    }

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) { }

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) { }

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => images.ApplyPages(block, offset, pages);

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) { }

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) { }

    public void OnCommand(in RecordInfo record, in Command command) { }

    public void OnEndOfSections(in RecordInfo record) { }

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) { }
}
