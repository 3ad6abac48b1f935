using Qmig.Wire.Streaming;

namespace Qmig.Wire.Analysis;

/// <summary>
/// Visits a stream and builds its <see cref="StreamProfile"/>. Memory is one byte per guest page
/// (how many times each page was sent, up to 255; only the pages sent, for a block larger than
/// <see cref="RamBlockMap.DensePageLimit"/> pages) plus a fixed number of regions per block, and a
/// record per device section and command.
/// </summary>
/// <example>
/// <code>
/// var profiler = new StreamProfiler();
/// var reader = new MigrationStreamReader(options);
/// var error = MigrationStreamDriver.ReadFile(file, reader, ref profiler);
/// var profile = profiler.Finish(reader);
/// </code>
/// </example>
public sealed class StreamProfiler : IMigrationVisitor
{
    /// <summary>A block map has at most this many regions: enough to see hot spots, few enough to draw.</summary>
    public const int MaxRegionsPerBlock = 256;

    private readonly RamRoundCounter _rounds = new();
    private readonly List<RamBlockMap> _blocks = [];
    private readonly List<DeviceSize> _devices = [];
    private readonly List<CommandMark> _commands = [];
    private readonly int _maxRegions;
    private int _pageSize = 4096;

    /// <summary>A profiler whose block maps have at most <paramref name="maxRegionsPerBlock"/> regions (fewer for a report that draws small maps).</summary>
    public StreamProfiler(int maxRegionsPerBlock = MaxRegionsPerBlock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRegionsPerBlock, 1);
        _maxRegions = maxRegionsPerBlock;
    }

    /// <summary>Blocks announced elsewhere (the main stream, for a postcopy-preempt channel).</summary>
    public void UseBlocks(IEnumerable<RamBlock> blocks, int targetPageSize)
    {
        _pageSize = targetPageSize;
        _blocks.Clear();
        foreach (var block in blocks)
        {
            _blocks.Add(new RamBlockMap(block.Name, block.UsedLength, targetPageSize, _maxRegions));
        }
    }

    /// <summary>The profile of what <paramref name="reader"/> read (all of the stream, or up to its error).</summary>
    public StreamProfile Finish(MigrationStreamReader reader) =>
        new(_rounds.Rounds, _blocks, _devices, _commands, reader.Position, reader.TargetPageSize, reader.IsCompleted, reader.Error);

    /// <inheritdoc/>
    public void OnFileHeader(in RecordInfo record, uint version)
    {
    }

    /// <inheritdoc/>
    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
    {
    }

    /// <inheritdoc/>
    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
    {
    }

    /// <inheritdoc/>
    public void OnSectionHeader(in RecordInfo record, SectionInfo section) => _rounds.OnSectionHeader(record, section);

    /// <inheritdoc/>
    public void OnRamBlock(in RecordInfo record, RamBlock block)
    {
        if (block.Index == 0)
        {
            _blocks.Clear();
        }

        _blocks.Add(new RamBlockMap(block.Name, block.UsedLength, _pageSize, _maxRegions));
    }

    /// <inheritdoc/>
    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        _pageSize = (int)ram.TargetPageSize;
        _rounds.OnRamRecord(record, ram);
        if (block is null || block.Index >= _blocks.Count || _blocks[block.Index].Count(ram.Offset) is not { } region)
        {
            return;
        }

        if (ram.IsZero)
        {
            region.ZeroSends++;
        }
        else if (ram.IsPage)
        {
            region.NormalSends++;
        }
        else if (ram.IsXbzrle)
        {
            region.XbzrleSends++;
        }
        else if (ram.IsCompress)
        {
            region.CompressedSends++;
        }
    }

    /// <inheritdoc/>
    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
    {
        _pageSize = (int)header.PageSize;
        _rounds.OnMappedRamHeader(header);
    }

    /// <inheritdoc/>
    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
    {
    }

    /// <inheritdoc/>
    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
    {
        _rounds.OnRamPages(pages.Length);
        if (block.Index >= _blocks.Count)
        {
            return;
        }

        var map = _blocks[block.Index];
        for (var at = 0UL; at < (ulong)pages.Length; at += (ulong)_pageSize)
        {
            if (map.Count(offset + at) is { } region)
            {
                region.MappedSends++;
            }
        }
    }

    /// <inheritdoc/>
    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) =>
        _devices.Add(new DeviceSize(section.Idstr, section.InstanceId, section.VersionId, section.Id, record.Offset, body.Length));

    /// <inheritdoc/>
    public void OnSectionFooter(in RecordInfo record, SectionInfo section)
    {
    }

    /// <inheritdoc/>
    public void OnCommand(in RecordInfo record, in Command command)
    {
        _rounds.OnCommand(command);
        _commands.Add(new CommandMark(command.Cmd.ToQemuName()?.Replace("MIG_CMD_", "", StringComparison.Ordinal) ?? $"0x{(ushort)command.Cmd:x}",
            record.Offset, record.Length, record.Depth));
    }

    /// <inheritdoc/>
    public void OnEndOfSections(in RecordInfo record)
    {
    }

    /// <inheritdoc/>
    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
    {
    }
}
