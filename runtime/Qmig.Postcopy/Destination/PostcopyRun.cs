using Qmig.Linux.Memory;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// What a destination hands over at POSTCOPY_RUN (<see cref="DestinationOptions.OnPostcopyRun"/>),
/// the moment a VMM loads the device state and starts its vCPUs: from here on the guest runs on
/// this side, and a page it touches that is not here yet is requested from the source.
/// </summary>
public sealed class PostcopyRun
{
    internal PostcopyRun(IReadOnlyList<ReceivedDevice> devices, IReadOnlyList<RamBlockMemory> blocks, DestinationStats stats)
    {
        Devices = devices;
        Blocks = blocks;
        Stats = stats;
    }

    /// <summary>Every device section of the migration, in the order the source sent them (the package's).</summary>
    public IReadOnlyList<ReceivedDevice> Devices { get; }

    /// <summary>The guest's RAM blocks, in the order of the source's block list; pages not yet here fault.</summary>
    /// <remarks>
    /// Touch a block only from native code (see <see cref="Qmig.Linux.FaultingMemory"/>) or from
    /// vCPU threads the runtime does not manage: a managed thread parked in a userfault holds up
    /// every garbage collection, and the threads that would resolve the fault may wait for it.
    /// </remarks>
    public IReadOnlyList<RamBlockMemory> Blocks { get; }

    /// <summary>The migration's figures; <see cref="DestinationStats.VcpuStallMicroseconds"/> takes the vCPUs' stalls.</summary>
    public DestinationStats Stats { get; }
}
