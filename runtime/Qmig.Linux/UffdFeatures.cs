namespace Qmig.Linux;

/// <summary>UFFD_FEATURE_* bits negotiated by the UFFDIO_API handshake (linux/userfaultfd.h).</summary>
[Flags]
public enum UffdFeatures : ulong
{
    /// <summary>No optional feature: missing-page faults on anonymous memory only.</summary>
    None = 0,
    /// <summary>Faults on write-protected pages are reported too (UFFDIO_REGISTER_MODE_WP).</summary>
    PagefaultFlagWriteProtect = 1UL << 0,
    /// <summary>Needs CAP_SYS_PTRACE; the kernel answers EPERM otherwise.</summary>
    EventFork = 1UL << 1,
    /// <summary>mremap of a registered range is reported as a <see cref="UffdEventKind.Remap"/> event.</summary>
    EventRemap = 1UL << 2,
    /// <summary>madvise(DONTNEED/REMOVE) on a registered range blocks until the REMOVE event is read.</summary>
    EventRemove = 1UL << 3,
    /// <summary>Missing-page faults can be trapped on hugetlbfs memory (huge-page guest RAM).</summary>
    MissingHugetlbfs = 1UL << 4,
    /// <summary>Missing-page faults can be trapped on shared memory (memfd or tmpfs guest RAM).</summary>
    MissingShmem = 1UL << 5,
    /// <summary>munmap of a registered range blocks until the UNMAP event is read.</summary>
    EventUnmap = 1UL << 6,
    /// <summary>A missing-page fault raises SIGBUS instead of queueing an event, for a process that fills pages itself.</summary>
    Sigbus = 1UL << 7,
    /// <summary>Page-fault events carry the faulting thread id.</summary>
    ThreadId = 1UL << 8,
    /// <summary>Minor faults (page in the page cache, not yet mapped) can be trapped on hugetlbfs, resolved by UFFDIO_CONTINUE.</summary>
    MinorHugetlbfs = 1UL << 9,
    /// <summary>Minor faults can be trapped on shared memory, resolved by UFFDIO_CONTINUE.</summary>
    MinorShmem = 1UL << 10,
    /// <summary>Page-fault events carry the exact faulting address instead of the page-aligned one.</summary>
    ExactAddress = 1UL << 11,
    /// <summary>Write-protect tracking also works on hugetlbfs and shared memory.</summary>
    WriteProtectHugetlbfsShmem = 1UL << 12,
    /// <summary>Write-protecting an unpopulated range marks its pages so a first write faults too.</summary>
    WriteProtectUnpopulated = 1UL << 13,
    /// <summary>UFFDIO_POISON is available: a page can be marked so that touching it raises a memory error.</summary>
    Poison = 1UL << 14,
    /// <summary>Write faults on write-protected pages are resolved by the kernel itself, leaving only the dirty bit for the caller to read.</summary>
    WriteProtectAsync = 1UL << 15,
    /// <summary>UFFDIO_MOVE is available: pages can be moved into place instead of copied.</summary>
    Move = 1UL << 16,
}
