using System.Numerics;
using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Benchmarks.Stream;

/// <summary>What <c>qmig stats</c> counts on the RAM path (tools/Qmig.Cli StatsVisitor): flags by bit, pages by block.</summary>
public readonly struct CountVisitor(long[] flagCounts, long[] pagesPerBlock) : IMigrationVisitor
{
    public void OnFileHeader(in RecordInfo record, uint version) { }

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) { }

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) { }

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) => flagCounts[^1]++;

    public void OnRamBlock(in RecordInfo record, RamBlock block) { }

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        var flags = (uint)ram.Flags;
        while (flags != 0)
        {
            flagCounts[BitOperations.TrailingZeroCount(flags)]++;
            flags &= flags - 1;
        }

        if (block is not null)
        {
            pagesPerBlock[block.Index]++;
        }
    }

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) { }

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) { }

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => pagesPerBlock[block.Index] += pages.Length >> 12;

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) { }

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => flagCounts[^1]++;

    public void OnCommand(in RecordInfo record, in Command command) => flagCounts[^1]++;

    public void OnEndOfSections(in RecordInfo record) => flagCounts[^1]++;

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => flagCounts[^1]++;
}
