using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// sendfile(2) of a range of a file to a connected stream socket: the kernel hands the file's cached
/// pages to the socket without copying them through user memory at all. Waits out a full socket buffer
/// with poll(2), as <see cref="GatheredSend"/> does.
/// </summary>
public static unsafe class FileSend
{
    /// <summary>Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> on, retrying short sends.</summary>
    /// <param name="socket">A connected stream socket.</param>
    /// <param name="file">A file open for reading; its own position is not used or moved.</param>
    /// <param name="offset">Where the bytes begin in the file.</param>
    /// <param name="count">How many bytes.</param>
    /// <param name="timeout">How long the whole send may wait for the peer to take the bytes; <see cref="Timeout.InfiniteTimeSpan"/> for ever.</param>
    /// <param name="cancellationToken">Looked at whenever the send has to wait.</param>
    /// <exception cref="TimeoutException">The peer did not take every byte within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while the send waited.</exception>
    /// <exception cref="SocketException">sendfile failed, e.g. EPIPE or ECONNRESET when the peer closed the connection.</exception>
    /// <exception cref="IOException">The file ended before <paramref name="offset"/> + <paramref name="count"/>.</exception>
    public static void SendAll(Socket socket, SafeFileHandle file, long offset, long count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(file);
        var deadline = SocketWait.Deadline(timeout);
        var addedSocket = false;
        var addedFile = false;
        socket.SafeHandle.DangerousAddRef(ref addedSocket);
        file.DangerousAddRef(ref addedFile);
        try
        {
            var socketFd = (int)socket.SafeHandle.DangerousGetHandle();
            var fileFd = (int)file.DangerousGetHandle();
            var position = offset;
            var end = offset + count;
            while (position < end)
            {
                var sent = Libc.SendFile(socketFd, fileFd, &position, (nuint)Math.Min(end - position, 1L << 30));
                if (sent < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    if (errno != Errno.EAGAIN)
                    {
                        throw new SocketException(errno, $"sendfile failed: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})");
                    }

                    SocketWait.Writable(socketFd, deadline, timeout, cancellationToken);
                    continue;
                }

                if (sent == 0)
                {
                    throw new IOException($"the file ends at 0x{position:x}, before 0x{end:x}");
                }
            }
        }
        finally
        {
            if (addedFile)
            {
                file.DangerousRelease();
            }

            if (addedSocket)
            {
                socket.SafeHandle.DangerousRelease();
            }
        }
    }
}
