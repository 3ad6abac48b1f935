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

    public IReadOnlyList<RamRound> Rounds { get; }

    public IReadOnlyList<RamBlockMap> Blocks { get; }

    /// <summary>Device sections in stream order.</summary>
    public IReadOnlyList<DeviceSize> Devices { get; }

    public IReadOnlyList<CommandMark> Commands { get; }

    /// <summary>Bytes of the stream read.</summary>
    public long Length { get; }

    public int TargetPageSize { get; }

    public bool IsComplete { get; }

    public MigrationError? Error { get; }
}
