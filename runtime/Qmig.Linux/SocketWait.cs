using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>Waiting for room in a socket's send buffer (poll for POLLOUT), bounded by a deadline and a cancellation token.</summary>
internal static unsafe class SocketWait
{
    /// <summary>How long one poll waits before the cancellation token is looked at again.</summary>
    private const int PollSliceMilliseconds = 100;

    /// <summary>The <see cref="Stopwatch"/> timestamp by which a send of <paramref name="timeout"/> must end.</summary>
    public static long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Returns once <paramref name="fd"/> is writable (or has an error the next send reports).</summary>
    public static void Writable(int fd, long deadline, TimeSpan timeout, CancellationToken cancellationToken)
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
            var descriptor = new PollFd { Fd = fd, Events = LinuxConstants.POLLOUT };
            var ready = Libc.Poll(&descriptor, 1, wait);
            if (ready > 0)
            {
                return; // writable, or an error the next send reports
            }

            if (ready < 0 && Marshal.GetLastPInvokeError() is var errno && errno != Errno.EINTR)
            {
                throw new SocketException(errno, $"poll failed: {Errno.Name(errno)}");
            }
        }
    }
}
