using Qmig.Linux;
using Qmig.Linux.Memory;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Where a <see cref="PostcopyDestination"/> puts guest RAM: the memory of each RAM block the source
/// announces, all registered with one userfaultfd. A VMM implements it to receive straight into the
/// memory its vCPUs run on; <see cref="MemfdDestinationMemory"/> allocates memory of its own.
/// </summary>
/// <remarks>
/// The destination reads <see cref="Userfaultfd"/>'s events on a thread of its own from
/// POSTCOPY_LISTEN until the migration ends, so nothing else may read them meanwhile, and every
/// fault it reports must fall in a block this object provided. The destination never disposes the
/// blocks or the userfaultfd; it stops faulting on the blocks (waking blocked vCPUs) when the
/// migration fails or is cancelled.
/// </remarks>
public interface IDestinationMemory
{
    /// <summary>The userfaultfd every block is registered with, already open.</summary>
    Userfaultfd Userfaultfd { get; }

    /// <summary>
    /// Provides the memory of the RAM block <paramref name="name"/>, called once per block in the
    /// order of the source's block list, before any of its pages arrives.
    /// </summary>
    /// <param name="name">The block's name as the source calls it (QEMU's idstr, e.g. <c>pc.ram</c>).</param>
    /// <param name="length">The block's used length in bytes, a whole number of <paramref name="pageSize"/> pages.</param>
    /// <param name="pageSize">The host page size, or the huge page size (2 MiB or 1 GiB) of a hugetlbfs-backed block.</param>
    /// <returns>
    /// A block of exactly <paramref name="length"/> bytes and <paramref name="pageSize"/>-byte pages,
    /// registered with <see cref="Userfaultfd"/> in missing mode, with every page missing, and
    /// memfd-backed (<see cref="RamBlockOptions.MemfdBacked"/>): precopy sends a page again each
    /// time the guest dirties it, and only the memfd lets a later copy replace an earlier one.
    /// </returns>
    RamBlockMemory ProvideBlock(string name, ulong length, int pageSize);
}
