using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

internal static unsafe partial class Libc
{
    internal static readonly void* MapFailed = (void*)-1;

    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    internal static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(void* address, nuint length);

    [LibraryImport(LibraryName, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(void* address, nuint length, int advice);

    // Variadic in glibc (the fifth argument is read only with MREMAP_FIXED); fixed arguments are fine on x86_64.
    [LibraryImport(LibraryName, EntryPoint = "mremap", SetLastError = true)]
    internal static partial void* Mremap(void* oldAddress, nuint oldSize, nuint newSize, int flags, void* newAddress);

    // No SetLastError and a plain call: it exists so that a fault on registered memory is taken in native code
    // (see FaultingMemory), where the thread is in preemptive mode and does not hold up a garbage collection.
    [LibraryImport(LibraryName, EntryPoint = "memcpy")]
    internal static partial void* Memcpy(void* destination, void* source, nuint count);
}
