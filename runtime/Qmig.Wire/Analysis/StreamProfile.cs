using Qmig.Wire.Streaming;

namespace Qmig.Wire.Analysis;

/// <summary>A device section (SECTION_FULL other than RAM) and the size of its body.</summary>
public sealed record DeviceSize(string Idstr, uint InstanceId, uint VersionId, uint SectionId, long Offset, int BodyLength);

/// <summary>A QEMU_VM_COMMAND where it sits in the stream; <paramref name="Depth"/> is its PACKAGED nesting.</summary>
public sealed record CommandMark(string Name, long Offset, int Length, int Depth);

/// <summary>
/// The shape of one migration stream, for pictures: RAM rounds, where in each block pages were
/// sent, device sizes and the commands along the stream. <see cref="StreamProfiler"/> builds it.
/// </summary>
public sealed class StreamProfile
{
    internal StreamProfile(IReadOnlyList<RamRound> rounds, IReadOnlyList<RamBlockMap> blocks, IReadOnlyList<DeviceSize> devices,
        IReadOnlyList<CommandMark> commands, long length, int targetPageSize, bool complete, MigrationError? error)
    {
        Rounds = rounds;
        Blocks = blocks;
        Devices = devices;
        Commands = commands;
        Length = length;
        TargetPageSize = targetPageSize;
        IsComplete = complete;
        Error = error;
    }

    /// <summary>The RAM section bodies in stream order: setup, each precopy round, completion.</summary>
    public IReadOnlyList<RamRound> Rounds { get; }

    /// <summary>For each RAM block, where in it pages were sent and how often, region by region.</summary>
    public IReadOnlyList<RamBlockMap> Blocks { get; }

    /// <summary>Device sections in stream order.</summary>
    public IReadOnlyList<DeviceSize> Devices { get; }

    /// <summary>The commands (PING, POSTCOPY_*, PACKAGED, ...) along the stream, to place them on a timeline.</summary>
    public IReadOnlyList<CommandMark> Commands { get; }

    /// <summary>Bytes of the stream read.</summary>
    public long Length { get; }

    /// <summary>The page size the stream's RAM records use, in bytes.</summary>
    public int TargetPageSize { get; }

    /// <summary>True when the stream was read to its end without an error; a profile of a truncated stream is still useful.</summary>
    public bool IsComplete { get; }

    /// <summary>Why reading stopped early, or null when it did not; the profile covers what came before.</summary>
    public MigrationError? Error { get; }
}
