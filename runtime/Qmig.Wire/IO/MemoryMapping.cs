using System.Runtime.InteropServices;

namespace Qmig.Wire.IO;

/// <summary>mmap(2), munmap(2) and madvise(2), Linux only, for the file mappings and the large tables.</summary>
internal static unsafe partial class MemoryMapping
{
    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapShared = 1;
    public const int MapPrivate = 2;
    public const int MapAnonymous = 0x20;
    public const int MadvNormal = 0;
    public const int MadvSequential = 2;
    public const int MadvHugePage = 14;
    public const int MadvPopulateRead = 22;
    public const int MadvPopulateWrite = 23;

    /// <summary>What mmap returns on failure.</summary>
    public static readonly void* Failed = (void*)-1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(void* address, nuint length, int advice);
}
