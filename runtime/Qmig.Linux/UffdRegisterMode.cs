namespace Qmig.Linux;

/// <summary>UFFDIO_REGISTER_MODE_*: which kinds of fault on a range are reported.</summary>
[Flags]
public enum UffdRegisterMode : ulong
{
    /// <summary>Accesses to pages with no backing page (postcopy's "not received yet").</summary>
    Missing = 1UL << 0,
    /// <summary>Writes to pages write-protected with UFFDIO_WRITEPROTECT.</summary>
    WriteProtect = 1UL << 1,
    /// <summary>Accesses to shmem/hugetlbfs pages present in the page cache but not mapped here (resolved with Continue).</summary>
    Minor = 1UL << 2,
}
