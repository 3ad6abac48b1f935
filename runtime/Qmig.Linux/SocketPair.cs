using System.Net.Sockets;
using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// Two connected Unix stream sockets (socketpair(2)): what one end writes the other reads. Code
/// that works on a <see cref="Socket"/> (peeking, timeouts, shutting one direction) can be given one
/// end while the other end is fed from elsewhere, such as a decrypted TLS stream.
/// </summary>
public static class SocketPair
{
    /// <summary>Creates the pair; both ends are close-on-exec and owned by the returned sockets.</summary>
    public static unsafe (Socket First, Socket Second) Create()
    {
        var fds = stackalloc int[2];
        if (Libc.SocketPair(Libc.AfUnix, Libc.SockStream | Libc.SockCloexec, 0, fds) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new SocketException(errno, $"socketpair failed: {Errno.Name(errno)}");
        }

        return (new Socket(new SafeSocketHandle(fds[0], ownsHandle: true)), new Socket(new SafeSocketHandle(fds[1], ownsHandle: true)));
    }
}
