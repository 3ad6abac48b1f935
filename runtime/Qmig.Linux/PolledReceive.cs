using System.Net.Sockets;
using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// recv(2) on a connected stream socket that waits for bytes with poll(2), on the calling thread. .NET's
/// asynchronous receive registers the socket with its event loop for both directions, so while another
/// thread sends bulk data on the same socket every drained send buffer wakes that loop and a thread-pool
/// worker, thousands of times per GiB, taking CPU from the peer on a small host. A dedicated thread that
/// reads this way costs one wake-up per arrival and none per send.
/// </summary>
public static unsafe class PolledReceive
{
    /// <summary>Reads what has arrived, at most <paramref name="buffer"/>'s length, waiting until something has.</summary>
    /// <param name="socket">A connected stream socket.</param>
    /// <param name="buffer">Where the bytes go.</param>
    /// <param name="cancellationToken">Looked at at least every 100 ms while waiting.</param>
    /// <returns>The bytes read; 0 when the peer has closed its side, or when <paramref name="buffer"/> is empty.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    /// <exception cref="SocketException">recv failed, e.g. ECONNRESET.</exception>
    public static int Receive(Socket socket, Span<byte> buffer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var added = false;
        socket.SafeHandle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)socket.SafeHandle.DangerousGetHandle();
            fixed (byte* start = buffer)
            {
                while (true)
                {
                    var read = Libc.Recv(fd, start, (nuint)buffer.Length, LinuxConstants.MSG_DONTWAIT);
                    if (read >= 0)
                    {
                        return (int)read;
                    }

                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    if (errno != Errno.EAGAIN)
                    {
                        throw new SocketException(errno, $"recv failed: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})");
                    }

                    SocketWait.Readable(fd, cancellationToken);
                }
            }
        }
        finally
        {
            if (added)
            {
                socket.SafeHandle.DangerousRelease();
            }
        }
    }
}
