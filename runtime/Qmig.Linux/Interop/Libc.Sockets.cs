using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

internal static unsafe partial class Libc
{
    internal const int AfUnix = 1;
    internal const int SockStream = 1;
    internal const int SockCloexec = 0x80000;

    [LibraryImport(LibraryName, EntryPoint = "socketpair", SetLastError = true)]
    internal static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport(LibraryName, EntryPoint = "sendmsg", SetLastError = true)]
    internal static partial nint SendMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(LibraryName, EntryPoint = "recv", SetLastError = true)]
    internal static partial nint Recv(int fd, byte* buffer, nuint length, int flags);
}
