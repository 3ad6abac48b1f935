using Qmig.Wire.Comparison;

namespace Qmig.Cli.Diff;

/// <summary>What differs between the streams named A and B: devices (by idstr and instance) and RAM blocks (by name).</summary>
internal sealed record DiffReport(string A, string B, IReadOnlyList<DeviceDifference> Devices, IReadOnlyList<RamDifference> Ram)
{
    public bool IsEqual => Devices.Count == 0 && Ram.Count == 0;
}
