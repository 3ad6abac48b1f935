using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Benchmarks.Stream;

/// <summary>Setup only: where each PAGE record's bytes sit in the stream and where they go, for the plain-copy baseline.</summary>
public readonly struct PageIndexVisitor(List<(long Source, int Block, ulong Offset)> pages, List<RamBlock> blocks) : IMigrationVisitor
{
    public void OnFileHeader(in RecordInfo record, uint version) { }

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) { }

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) { }

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) { }

    public void OnRamBlock(in RecordInfo record, RamBlock block) => blocks.Add(block);

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (ram.IsPage && block is not null)
        {
            pages.Add((record.Offset + record.Length - ram.Page.Length, block.Index, ram.Offset));
        }
    }

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) { }

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) { }

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> data)
    {
        for (var at = 0; at < data.Length; at += 4096)
        {
            pages.Add((record.Offset + at, block.Index, offset + (ulong)at));
        }
    }

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) { }

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) { }

    public void OnCommand(in RecordInfo record, in Command command) { }

    public void OnEndOfSections(in RecordInfo record) { }

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) { }
}
