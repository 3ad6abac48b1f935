using Qmig.Wire.VmState;

namespace Qmig.Cli.Commands;

/// <summary>What extraction keeps besides the RAM images: what state.json is built from, and the stream's own vmdesc.</summary>
internal sealed class ExtractResult
{
    public MigrationStateCollector State { get; } = new();

    public byte[]? VmDescriptionJson { get; set; }

    /// <summary>Where <see cref="VmDescriptionJson"/> starts in the file.</summary>
    public long VmDescriptionOffset { get; set; }
}
