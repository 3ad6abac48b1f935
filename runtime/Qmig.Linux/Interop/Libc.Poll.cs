using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport(LibraryName, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(PollFd* descriptors, nuint count, int timeoutMilliseconds);
}
