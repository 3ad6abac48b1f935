using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>Waiting for room in a socket's send buffer or for bytes to read (poll), bounded by a deadline and a cancellation token.</summary>
internal static unsafe class SocketWait
{
    /// <summary>How long one poll waits before the cancellation token is looked at again.</summary>
    private const int PollSliceMilliseconds = 100;

    /// <summary>The <see cref="Stopwatch"/> timestamp by which a send of <paramref name="timeout"/> must end.</summary>
    public static long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Returns once <paramref name="fd"/> is writable (or has an error the next send reports).</summary>
    public static void Writable(int fd, long deadline, TimeSpan timeout, CancellationToken cancellationToken) =>
        Ready(fd, LinuxConstants.POLLOUT, deadline, timeout, cancellationToken);

    /// <summary>Returns once <paramref name="fd"/> has bytes to read, its end, or an error the next receive reports.</summary>
    public static void Readable(int fd, CancellationToken cancellationToken) =>
        Ready(fd, LinuxConstants.POLLIN, long.MaxValue, Timeout.InfiniteTimeSpan, cancellationToken);

    private static void Ready(int fd, short events, long deadline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = deadline - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                throw new TimeoutException($"the peer took no more bytes within {timeout.TotalSeconds:0.###} s");
            }

            var wait = (int)Math.Min(PollSliceMilliseconds, Math.Max(1, left * 1000 / Stopwatch.Frequency));
            var descriptor = new PollFd { Fd = fd, Events = events };
            var ready = Libc.Poll(&descriptor, 1, wait);
            if (ready > 0)
            {
                return; // ready, or an error the next send or receive reports
            }

            if (ready < 0 && Marshal.GetLastPInvokeError() is var errno && errno != Errno.EINTR)
            {
                throw new SocketException(errno, $"poll failed: {Errno.Name(errno)}");
            }
        }
    }
}
