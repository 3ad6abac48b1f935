using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

public sealed unsafe partial class Userfaultfd
{
    private const int MaxMessagesPerRead = 64;
    private int _readerActive;

    /// <summary>
    /// Waits until at least one event is queued, then reads as many as fit (up to 64). Returns 0 when
    /// <paramref name="timeoutMilliseconds"/> passes first (-1 waits forever).
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled (the wait is interrupted through an eventfd, not by polling the token).</exception>
    /// <exception cref="ObjectDisposedException">The descriptor was disposed, possibly while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another thread is already reading events.</exception>
    public int ReadEvents(Span<UffdEvent> destination, int timeoutMilliseconds = -1, CancellationToken cancellationToken = default)
    {
        if (destination.IsEmpty)
        {
            throw new ArgumentException("no room for an event", nameof(destination));
        }

        if (Interlocked.Exchange(ref _readerActive, 1) != 0)
        {
            throw new InvalidOperationException("ReadEvents admits one reader at a time; another thread is already reading this userfaultfd.");
        }

        try
        {
            // The registration runs on the cancelling thread; all it does is bump the eventfd the poll below watches.
            using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static state => ((Userfaultfd)state!).Kick(), this)
                : default;
            long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
            while (true)
            {
                // Checked before every wait, and the kick stays pending until drained, so a cancellation that
                // lands between this check and poll still ends the poll at once.
                cancellationToken.ThrowIfCancellationRequested();
                ThrowIfDisposed();
                int remaining = deadline == long.MaxValue ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
                PollResult ready = WaitReadable(remaining);
                if (ready == PollResult.TimedOut)
                {
                    return 0;
                }

                if (ready == PollResult.Kicked)
                {
                    DrainKick();
                    continue;
                }

                int count = ReadAvailable(destination);
                if (count > 0)
                {
                    return count;
                }

                // Readable, then nothing to read: the fault was resolved (and its message withdrawn) between poll and read.
            }
        }
        finally
        {
            Volatile.Write(ref _readerActive, 0);
        }
    }

    /// <summary>Reads the events already queued without waiting; returns 0 when there are none.</summary>
    public int TryReadEvents(Span<UffdEvent> destination)
    {
        ThrowIfDisposed();
        return ReadAvailable(destination);
    }

    private PollResult WaitReadable(int timeoutMilliseconds)
    {
        bool fdAdded = false;
        bool kickAdded = false;
        try
        {
            // poll takes raw numbers, so hold both handles open for its duration by hand.
            _fd.DangerousAddRef(ref fdAdded);
            _kick.DangerousAddRef(ref kickAdded);
            PollFd* descriptors = stackalloc PollFd[2];
            descriptors[0] = new PollFd { Fd = _fd.Number, Events = LinuxConstants.POLLIN };
            descriptors[1] = new PollFd { Fd = _kick.Number, Events = LinuxConstants.POLLIN };
            while (true)
            {
                int ready = Libc.Poll(descriptors, 2, timeoutMilliseconds);
                if (ready > 0)
                {
                    if (descriptors[1].ReturnedEvents != 0)
                    {
                        return PollResult.Kicked;
                    }

                    if ((descriptors[0].ReturnedEvents & (LinuxConstants.POLLERR | LinuxConstants.POLLNVAL)) != 0)
                    {
                        throw new UserfaultfdException("poll", Errno.EINVAL, "poll reported an error condition on the userfaultfd (revents=0x" + ((int)descriptors[0].ReturnedEvents).ToString("X", System.Globalization.CultureInfo.InvariantCulture) + ").");
                    }

                    return PollResult.Readable;
                }

                if (ready == 0)
                {
                    return PollResult.TimedOut;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw new UserfaultfdException("poll", errno, "poll on the userfaultfd failed with " + Errno.Name(errno) + ".");
                }
            }
        }
        finally
        {
            if (kickAdded)
            {
                _kick.DangerousRelease();
            }

            if (fdAdded)
            {
                _fd.DangerousRelease();
            }
        }
    }

    private int ReadAvailable(Span<UffdEvent> destination)
    {
        int capacity = Math.Min(destination.Length, MaxMessagesPerRead);
        UffdMsg* messages = stackalloc UffdMsg[capacity];
        while (true)
        {
            nint bytes = Libc.Read(_fd, messages, (nuint)(capacity * sizeof(UffdMsg)));
            if (bytes > 0)
            {
                int count = (int)(bytes / sizeof(UffdMsg));
                for (int i = 0; i < count; i++)
                {
                    destination[i] = new UffdEvent(in messages[i]);
                }

                return count;
            }

            int errno = bytes == 0 ? Errno.EINVAL : Marshal.GetLastPInvokeError();
            if (errno == Errno.EAGAIN)
            {
                return 0;
            }

            if (errno != Errno.EINTR)
            {
                throw new UserfaultfdException("read", errno, "reading events from the userfaultfd failed with " + Errno.Name(errno) + ".");
            }
        }
    }

    private void Kick()
    {
        ulong one = 1;
        bool added = false;
        try
        {
            _kick.DangerousAddRef(ref added);
            // EAGAIN would mean the counter is saturated, i.e. a kick is already pending: nothing to add.
            _ = Libc.Write(_kick, &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: the reader is woken by the kick Dispose sent before closing.
        }
        finally
        {
            if (added)
            {
                _kick.DangerousRelease();
            }
        }
    }

    private void DrainKick()
    {
        ulong value;
        _ = Libc.Read(_kick, &value, sizeof(ulong));
    }

    private enum PollResult
    {
        Readable,
        Kicked,
        TimedOut,
    }
}
