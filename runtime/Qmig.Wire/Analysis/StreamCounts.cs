using Qmig.Wire.Streaming;

namespace Qmig.Wire.Analysis;

/// <summary>
/// What a stream holds, counted (what <c>qmig stats</c> and <c>check</c> print): records by kind,
/// commands by name, the sections, RAM records by flag and pages by block, each mapped-ram block's
/// layout, and the precopy rounds. <see cref="StreamCountingVisitor"/> fills it; the RAM path
/// touches only arrays indexed by flag bit and block index, so counting a large stream costs about
/// as much as reading it.
/// </summary>
public sealed class StreamCounts
{
    private readonly Dictionary<string, long> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _commands = new(StringComparer.Ordinal);
    private readonly List<SectionInfo> _sections = [];
    private readonly List<RamBlock> _blocks = [];
    private readonly List<MappedRamBlockCounts> _mappedRam = [];
    private readonly long[] _flagCounts = new long[10];
    private long[] _pagesPerBlock = new long[16];

    /// <summary>Records by kind, by QEMU's name (<c>SECTION_FULL</c>, <c>COMMAND</c>, ...).</summary>
    public IReadOnlyDictionary<string, long> Records => _records;

    /// <summary>Commands by QEMU's name without its <c>MIG_CMD_</c> prefix (<c>PACKAGED</c>, ...), or the number in hex for one QEMU does not name.</summary>
    public IReadOnlyDictionary<string, long> Commands => _commands;

    /// <summary>The sections started (SECTION_START or SECTION_FULL), in stream order.</summary>
    public IReadOnlyList<SectionInfo> Sections => _sections;

    /// <summary>The RAM blocks of the last block list (or those given to <see cref="UseBlocks"/>).</summary>
    public IReadOnlyList<RamBlock> Blocks => _blocks;

    /// <summary>RAM records read.</summary>
    public long RamRecords { get; private set; }

    /// <summary>RAM records by flag bit: entry <c>b</c> counts the records with flag <c>1 &lt;&lt; b</c> set.</summary>
    public IReadOnlyList<long> FlagCounts => _flagCounts;

    /// <summary>Each mapped-ram block's layout, in stream order.</summary>
    public IReadOnlyList<MappedRamBlockCounts> MappedRam => _mappedRam;

    /// <summary>The precopy rounds (and the postcopy phase).</summary>
    public RamRoundCounter Rounds { get; } = new();

    /// <summary>RAM records that addressed <paramref name="block"/> (one of <see cref="Blocks"/>).</summary>
    public long PagesIn(RamBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        return block.Index < _pagesPerBlock.Length ? _pagesPerBlock[block.Index] : 0;
    }

    /// <summary>Blocks announced elsewhere (the main stream, for a postcopy-preempt channel), so that their pages are counted.</summary>
    public void UseBlocks(IEnumerable<RamBlock> blocks)
    {
        _blocks.Clear();
        _blocks.AddRange(blocks);
        if (_pagesPerBlock.Length < _blocks.Count)
        {
            _pagesPerBlock = new long[_blocks.Count];
        }
    }

    internal void CountRecord(RecordKind kind)
    {
        var name = kind.QemuName();
        _records[name] = _records.GetValueOrDefault(name) + 1;
    }

    internal void CountCommand(MigCmd cmd)
    {
        var name = cmd.ToQemuName()?.Replace("MIG_CMD_", "", StringComparison.Ordinal) ?? $"0x{(ushort)cmd:x}";
        _commands[name] = _commands.GetValueOrDefault(name) + 1;
    }

    internal void AddSection(SectionInfo section) => _sections.Add(section);

    internal void AddBlock(RamBlock block)
    {
        if (block.Index == 0)
        {
            _blocks.Clear();
        }

        _blocks.Add(block);
        if (_pagesPerBlock.Length <= block.Index)
        {
            Array.Resize(ref _pagesPerBlock, block.Index * 2);
        }
    }

    internal void CountRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        RamRecords++;
        Rounds.OnRamRecord(record, ram);
        var flags = (uint)ram.Flags;
        while (flags != 0)
        {
            _flagCounts[System.Numerics.BitOperations.TrailingZeroCount(flags)]++;
            flags &= flags - 1;
        }

        if (block is not null)
        {
            _pagesPerBlock[block.Index]++;
        }
    }

    internal void AddMappedRam(MappedRamBlockCounts block) => _mappedRam.Add(block);
}
