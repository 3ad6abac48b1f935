namespace Qmig.Linux;

/// <summary>UFFD_FEATURE_* bits negotiated by the UFFDIO_API handshake (linux/userfaultfd.h).</summary>
[Flags]
public enum UffdFeatures : ulong
{
    None = 0,
    PagefaultFlagWriteProtect = 1UL << 0,
    /// <summary>Needs CAP_SYS_PTRACE; the kernel answers EPERM otherwise.</summary>
    EventFork = 1UL << 1,
    EventRemap = 1UL << 2,
    /// <summary>madvise(DONTNEED/REMOVE) on a registered range blocks until the REMOVE event is read.</summary>
    EventRemove = 1UL << 3,
    MissingHugetlbfs = 1UL << 4,
    MissingShmem = 1UL << 5,
    /// <summary>munmap of a registered range blocks until the UNMAP event is read.</summary>
    EventUnmap = 1UL << 6,
    Sigbus = 1UL << 7,
    /// <summary>Page-fault events carry the faulting thread id.</summary>
    ThreadId = 1UL << 8,
    MinorHugetlbfs = 1UL << 9,
    MinorShmem = 1UL << 10,
    ExactAddress = 1UL << 11,
    WriteProtectHugetlbfsShmem = 1UL << 12,
    WriteProtectUnpopulated = 1UL << 13,
    Poison = 1UL << 14,
    WriteProtectAsync = 1UL << 15,
    Move = 1UL << 16,
}
