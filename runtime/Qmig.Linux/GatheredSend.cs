using System.Net.Sockets;
using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// sendmsg(2) of many pieces of memory on a connected stream socket, in order: a record's header from a send
/// buffer and its payload from wherever it lives (a mapped file, a VMM's guest RAM) leave in one system call,
/// so the kernel's copy into the socket is the only one. Works whether or not the socket is in non-blocking
/// mode (.NET puts it there once it is used asynchronously): a full socket buffer is waited out with poll(2).
/// </summary>
public static unsafe class GatheredSend
{
    /// <summary>At most this many segments go into one system call (Linux's IOV_MAX).</summary>
    public const int MaxSegments = 1024;

    /// <summary>
    /// Sends every byte of <paramref name="segments"/>, retrying short sends. <paramref name="segments"/> is
    /// consumed as it goes (its contents are changed).
    /// </summary>
    /// <param name="socket">A connected stream socket.</param>
    /// <param name="segments">The pieces, in order; their memory must stay valid until this returns.</param>
    /// <param name="timeout">How long the whole send may wait for the peer to take the bytes; <see cref="Timeout.InfiniteTimeSpan"/> for ever.</param>
    /// <param name="cancellationToken">Looked at whenever the send has to wait.</param>
    /// <returns>The bytes sent: the sum of the segments' lengths.</returns>
    /// <exception cref="TimeoutException">The peer did not take every byte within <paramref name="timeout"/>; some may have been sent.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while the send waited.</exception>
    /// <exception cref="SocketException">sendmsg failed, e.g. EPIPE or ECONNRESET when the peer closed the connection.</exception>
    /// <param name="more">More bytes follow at once (MSG_MORE): the kernel may hold the last segment back to fill a packet with them.</param>
    public static long SendAll(Socket socket, Span<GatherSegment> segments, TimeSpan timeout, CancellationToken cancellationToken, bool more = false)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var deadline = SocketWait.Deadline(timeout);
        var added = false;
        socket.SafeHandle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)socket.SafeHandle.DangerousGetHandle();
            long total = 0;
            while (!segments.IsEmpty && segments[0].Length == 0)
            {
                segments = segments[1..];
            }

            while (!segments.IsEmpty)
            {
                long sent;
                fixed (GatherSegment* first = segments)
                {
                    var message = new MsgHdr { Iov = first, IovLen = (nuint)Math.Min(segments.Length, MaxSegments) };
                    sent = Libc.SendMsg(fd, &message, LinuxConstants.MSG_DONTWAIT | LinuxConstants.MSG_NOSIGNAL | (more ? LinuxConstants.MSG_MORE : 0));
                }

                if (sent < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    if (errno != Errno.EAGAIN)
                    {
                        throw new SocketException(errno, $"sendmsg failed: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})");
                    }

                    SocketWait.Writable(fd, deadline, timeout, cancellationToken);
                    continue;
                }

                total += sent;
                while (!segments.IsEmpty && sent >= (long)segments[0].Length)
                {
                    sent -= (long)segments[0].Length;
                    segments = segments[1..];
                }

                if (sent > 0)
                {
                    segments[0] = new GatherSegment(segments[0].Start + (nint)sent, segments[0].Length - (nuint)sent);
                }
            }

            return total;
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
