namespace Qmig.Linux;

/// <summary>UFFD_PAGEFAULT_FLAG_*: why a page-fault event was raised.</summary>
[Flags]
public enum UffdPagefaultFlags : ulong
{
    /// <summary>A read fault on a missing page.</summary>
    None = 0,
    /// <summary>The faulting access was a write.</summary>
    Write = 1UL << 0,
    /// <summary>The fault hit a write-protected page, not a missing one.</summary>
    WriteProtect = 1UL << 1,
    /// <summary>A minor fault: the page exists in the page cache but is not mapped yet.</summary>
    Minor = 1UL << 2,
}
