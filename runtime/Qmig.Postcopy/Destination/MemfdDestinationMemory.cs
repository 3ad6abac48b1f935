using Qmig.Linux;
using Qmig.Linux.Memory;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Guest RAM a destination allocates for itself: a userfaultfd of its own and one memfd-backed block
/// per RAM block (hugetlb-backed for a block of huge pages, whose pages the kernel's pool must
/// have). Disposing unmaps the blocks and closes the userfaultfd.
/// </summary>
public sealed class MemfdDestinationMemory : IDestinationMemory, IDisposable
{
    private readonly GuestMemory _memory;

    /// <summary>Opens a userfaultfd; blocks are mapped as the source announces them.</summary>
    /// <exception cref="UserfaultfdUnavailableException">The kernel or its settings offer no userfaultfd to this process.</exception>
    public MemfdDestinationMemory()
    {
        _memory = new GuestMemory(Userfaultfd.Open(), ownsUserfaultfd: true);
    }

    /// <inheritdoc/>
    public Userfaultfd Userfaultfd => _memory.Userfaultfd;

    /// <inheritdoc/>
    /// <exception cref="UserfaultfdException">The block could not be mapped or registered (for huge pages: the pool has too few).</exception>
    public RamBlockMemory ProvideBlock(string name, ulong length, int pageSize) =>
        _memory.AddBlock(name, length, new RamBlockOptions
        {
            MemfdBacked = true,
            HugeTlb = pageSize != Environment.SystemPageSize,
            PageSize = pageSize,
        });

    /// <summary>Unmaps every block and closes the userfaultfd.</summary>
    public void Dispose() => _memory.Dispose();
}
