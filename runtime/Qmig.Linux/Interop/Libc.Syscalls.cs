using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

// glibc's `syscall` and `ioctl` are variadic; declaring them with fixed 64-bit arguments is sound on
// x86_64 SysV because variadic integer arguments travel in the same registers as fixed ones.
internal static unsafe partial class Libc
{
    private const string LibraryName = "libc";

    [LibraryImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number, long argument1);

    /// <summary>ioctl whose third argument points to a structure the kernel reads and/or writes.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(SafeFileDescriptor fd, nuint request, void* argument);

    /// <summary>ioctl whose third argument is passed by value (USERFAULTFD_IOC_NEW takes its flags this way).</summary>
    [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlValue(SafeFileDescriptor fd, nuint request, nint argument);

    [LibraryImport(LibraryName, EntryPoint = "gettid")]
    internal static partial int GetTid();

    [LibraryImport(LibraryName, EntryPoint = "sched_setaffinity", SetLastError = true)]
    internal static partial int SchedSetAffinity(int pid, nuint cpuSetSize, ulong* mask);

    [LibraryImport(LibraryName, EntryPoint = "sched_getcpu")]
    internal static partial int SchedGetCpu();
}
