namespace Qmig.Linux.Memory;

/// <summary>How a RAM block's memory is backed and registered.</summary>
public sealed class RamBlockOptions
{
    /// <summary>
    /// Back the block with a memfd mapped shared instead of private anonymous memory. The file can then
    /// be read with pread without touching the registered mapping (no fault), and handed to another
    /// process; discards punch holes (MADV_REMOVE) instead of dropping private pages.
    /// </summary>
    public bool MemfdBacked { get; init; }

    /// <summary>
    /// Back the block with huge pages from the kernel's hugetlb pool (a memfd with MFD_HUGETLB; needs
    /// <see cref="MemfdBacked"/>, and <see cref="PageSize"/> a huge page size the kernel has: 2 MiB or
    /// 1 GiB on x86-64, reserved in /proc/sys/vm/nr_hugepages or its per-size twin). Like a QEMU guest
    /// on hugetlbfs: faults, placements and discards are whole huge pages, and the kernel has no
    /// zero-page placement for them (zeros are copied).
    /// </summary>
    public bool HugeTlb { get; init; }

    /// <summary>The block's page size: the unit of placement, faults and discards (the host page size).</summary>
    public int PageSize { get; init; } = Environment.SystemPageSize;

    /// <summary>Registration mode; postcopy needs Missing.</summary>
    public UffdRegisterMode RegisterMode { get; init; } = UffdRegisterMode.Missing;
}
