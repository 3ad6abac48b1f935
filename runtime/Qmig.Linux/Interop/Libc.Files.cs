using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(SafeFileDescriptor fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(SafeFileDescriptor fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "pread", SetLastError = true)]
    internal static partial nint PRead(SafeFileDescriptor fd, void* buffer, nuint count, long offset);

    [LibraryImport(LibraryName, EntryPoint = "pwrite", SetLastError = true)]
    internal static partial nint PWrite(SafeFileDescriptor fd, void* buffer, nuint count, long offset);

    [LibraryImport(LibraryName, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int FTruncate(SafeFileDescriptor fd, long length);

    [LibraryImport(LibraryName, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initialValue, int flags);
}
