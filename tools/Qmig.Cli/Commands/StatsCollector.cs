using Qmig.Wire;
using Qmig.Wire.Analysis;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary>
/// Counts what a stream holds. The RAM path touches only arrays indexed by flag bit and block
/// index, so counting a large stream costs about as much as reading it.
/// </summary>
internal sealed class StatsCollector
{
    public readonly Dictionary<string, long> Records = new(StringComparer.Ordinal);
    public readonly Dictionary<string, long> Commands = new(StringComparer.Ordinal);
    public readonly List<SectionInfo> Sections = [];
    public readonly long[] FlagCounts = new long[10];
    public readonly List<RamBlock> Blocks = [];
    public long[] PagesPerBlock = new long[16];
    public long RamRecords;
    public readonly List<MappedRamBlockStats> MappedRam = [];
    public readonly RamRoundCounter Rounds = new();

    /// <summary>Blocks announced elsewhere (the main stream, for a preempt channel), so their pages are counted.</summary>
    public void UseBlocks(IEnumerable<RamBlock> blocks)
    {
        Blocks.Clear();
        Blocks.AddRange(blocks);
        if (PagesPerBlock.Length < Blocks.Count)
        {
            PagesPerBlock = new long[Blocks.Count];
        }
    }

    public void CountRecord(RecordKind kind)
    {
        var name = kind.QemuName();
        Records[name] = Records.GetValueOrDefault(name) + 1;
    }
}

internal readonly struct StatsVisitor(StatsCollector stats) : IMigrationVisitor
{
    public void OnFileHeader(in RecordInfo record, uint version)
    {
    }

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => stats.CountRecord(record.Kind);

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) =>
        stats.CountRecord(record.Kind);

    public void OnSectionHeader(in RecordInfo record, SectionInfo section)
    {
        stats.CountRecord(record.Kind);
        stats.Rounds.OnSectionHeader(record, section);
        if (record.Kind is RecordKind.SectionStart or RecordKind.SectionFull)
        {
            stats.Sections.Add(section);
        }
    }

    public void OnRamBlock(in RecordInfo record, RamBlock block)
    {
        if (block.Index == 0)
        {
            stats.Blocks.Clear();
        }

        stats.Blocks.Add(block);
        if (stats.PagesPerBlock.Length <= block.Index)
        {
            Array.Resize(ref stats.PagesPerBlock, block.Index * 2);
        }
    }

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        stats.RamRecords++;
        stats.Rounds.OnRamRecord(record, ram);
        var flags = (uint)ram.Flags;
        while (flags != 0)
        {
            stats.FlagCounts[System.Numerics.BitOperations.TrailingZeroCount(flags)]++;
            flags &= flags - 1;
        }

        if (block is not null)
        {
            stats.PagesPerBlock[block.Index]++;
        }
    }

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
    {
        stats.MappedRam.Add(new MappedRamBlockStats(block, header.BitmapOffset, header.PagesOffset));
        stats.Rounds.OnMappedRamHeader(header);
    }

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
    {
        var entry = stats.MappedRam[^1];
        entry.BitmapBytes = bitmap.Length;
        entry.PagesPresent = MappedRamBitmap.CountPresent(bitmap);
    }

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
    {
        stats.MappedRam[^1].BytesRead += pages.Length;
        stats.Rounds.OnRamPages(pages.Length);
    }

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
    {
    }

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => stats.CountRecord(record.Kind);

    public void OnCommand(in RecordInfo record, in Command command)
    {
        stats.CountRecord(record.Kind);
        stats.Rounds.OnCommand(command);
        var name = Output.RecordDescriber.CommandName(command.Cmd);
        stats.Commands[name] = stats.Commands.GetValueOrDefault(name) + 1;
    }

    public void OnEndOfSections(in RecordInfo record) => stats.CountRecord(record.Kind);

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => stats.CountRecord(record.Kind);
}
