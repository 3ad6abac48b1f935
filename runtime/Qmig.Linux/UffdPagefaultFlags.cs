namespace Qmig.Linux;

/// <summary>UFFD_PAGEFAULT_FLAG_*: why a page-fault event was raised.</summary>
[Flags]
public enum UffdPagefaultFlags : ulong
{
    None = 0,
    Write = 1UL << 0,
    WriteProtect = 1UL << 1,
    Minor = 1UL << 2,
}
