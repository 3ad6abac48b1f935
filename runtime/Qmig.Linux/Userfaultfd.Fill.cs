using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// The fill requests (COPY, ZEROPAGE, CONTINUE). They share the kernel's reporting convention: the
/// ioctl returns 0 when the whole range was filled; otherwise the struct's count field holds either the
/// number of bytes filled before the kernel stopped (and the ioctl says EAGAIN), or minus the errno.
/// </summary>
public sealed unsafe partial class Userfaultfd
{
    /// <summary>How long an idempotent fill keeps retrying "address space changing" EAGAINs before it gives up.</summary>
    public static TimeSpan TryAgainBudget { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// UFFDIO_COPY: atomically maps pages filled with the bytes at <paramref name="source"/> into the
    /// registered, unpopulated range at <paramref name="destination"/>, then (unless <paramref name="wake"/>
    /// is false) wakes threads blocked on faults in the range. One ioctl; see <see cref="UffdFillStatus"/>
    /// for the non-error outcomes.
    /// </summary>
    public UffdFillResult Copy(ulong destination, ulong source, ulong length, bool wake = true, bool writeProtect = false)
    {
        ThrowIfDisposed();
        var request = new UffdioCopy
        {
            Destination = destination,
            Source = source,
            Length = length,
            Mode = (wake ? 0 : UffdAbi.UFFDIO_COPY_MODE_DONTWAKE) | (writeProtect ? UffdAbi.UFFDIO_COPY_MODE_WP : 0),
        };
        if (Libc.Ioctl(_fd, UffdAbi.UFFDIO_COPY, &request) == 0)
        {
            return new UffdFillResult(UffdFillStatus.Completed, length);
        }

        return Interpret("UFFDIO_COPY", Marshal.GetLastPInvokeError(), request.Copied, destination, length);
    }

    /// <summary>UFFDIO_COPY from a managed buffer (pinned for the duration of the call).</summary>
    public UffdFillResult Copy(ulong destination, ReadOnlySpan<byte> source, bool wake = true)
    {
        fixed (byte* pointer = source)
        {
            return Copy(destination, (ulong)pointer, (ulong)source.Length, wake);
        }
    }

    /// <summary>UFFDIO_ZEROPAGE: maps zero-filled pages (the shared zero page for private anonymous memory) over a whole range in one call.</summary>
    public UffdFillResult ZeroPage(ulong start, ulong length, bool wake = true)
    {
        ThrowIfDisposed();
        var request = new UffdioZeropage
        {
            Range = new UffdioRange { Start = start, Length = length },
            Mode = wake ? 0 : UffdAbi.UFFDIO_ZEROPAGE_MODE_DONTWAKE,
        };
        if (Libc.Ioctl(_fd, UffdAbi.UFFDIO_ZEROPAGE, &request) == 0)
        {
            return new UffdFillResult(UffdFillStatus.Completed, length);
        }

        return Interpret("UFFDIO_ZEROPAGE", Marshal.GetLastPInvokeError(), request.Zeroed, start, length);
    }

    /// <summary>
    /// UFFDIO_CONTINUE: resolves minor faults by mapping the pages already in the page cache
    /// (shmem/hugetlbfs ranges registered in minor mode).
    /// </summary>
    public UffdFillResult Continue(ulong start, ulong length, bool wake = true, bool writeProtect = false)
    {
        ThrowIfDisposed();
        var request = new UffdioContinue
        {
            Range = new UffdioRange { Start = start, Length = length },
            Mode = (wake ? 0 : UffdAbi.UFFDIO_CONTINUE_MODE_DONTWAKE) | (writeProtect ? UffdAbi.UFFDIO_CONTINUE_MODE_WP : 0),
        };
        if (Libc.Ioctl(_fd, UffdAbi.UFFDIO_CONTINUE, &request) == 0)
        {
            return new UffdFillResult(UffdFillStatus.Completed, length);
        }

        return Interpret("UFFDIO_CONTINUE", Marshal.GetLastPInvokeError(), request.Mapped, start, length);
    }

    /// <summary>
    /// Copies a range so that afterwards every page in it is mapped, whoever mapped it: pages found
    /// already present (EEXIST) are skipped and counted, a copy the kernel cut short (EAGAIN with a count)
    /// is resumed after the bytes it did copy, and "address space changing" (EAGAIN with no count) is
    /// retried while the event reader catches up, for at most <see cref="TryAgainBudget"/>.
    /// </summary>
    /// <remarks>
    /// QEMU's own uffd_copy_page treats every failure, EEXIST included, as an error, because its
    /// received-bitmap check keeps it from placing a page twice; this runtime has several placers
    /// (background stream, urgent requests, tests racing on purpose), so a page that is already there is
    /// the expected outcome of losing a race and is reported, not thrown.
    /// </remarks>
    public UffdPlacement CopyIdempotent(ulong destination, ulong source, ulong length, ulong pageSize, bool wake = true)
        => FillIdempotent(FillKind.Copy, destination, source, length, pageSize, wake);

    /// <summary>The ZEROPAGE counterpart of <see cref="CopyIdempotent"/>.</summary>
    public UffdPlacement ZeroPageIdempotent(ulong start, ulong length, ulong pageSize, bool wake = true)
        => FillIdempotent(FillKind.Zero, start, 0, length, pageSize, wake);

    private UffdPlacement FillIdempotent(FillKind kind, ulong destination, ulong source, ulong length, ulong pageSize, bool wake)
    {
        // Masks, not a division: this runs for every page placed.
        if (!BitOperations.IsPow2(pageSize) || (length & (pageSize - 1)) != 0)
        {
            throw new ArgumentException("length must be a multiple of the page size, a power of two", nameof(length));
        }

        ulong offset = 0;
        ulong filled = 0;
        ulong present = 0;
        int retries = 0;
        long deadline = 0;
        var spinner = new SpinWait();
        while (offset < length)
        {
            UffdFillResult result = kind == FillKind.Copy
                ? Copy(destination + offset, source + offset, length - offset, wake)
                : ZeroPage(destination + offset, length - offset, wake);
            switch (result.Status)
            {
                case UffdFillStatus.Completed:
                    filled += result.Bytes;
                    offset = length;
                    break;

                case UffdFillStatus.Partial:
                    filled += result.Bytes;
                    offset += result.Bytes;
                    retries++;
                    break;

                case UffdFillStatus.AlreadyPresent:
                    // The kernel stops at the first mapped page; skip exactly that page and go on. If its
                    // placer used DONTWAKE and has not woken yet, a thread may still sleep on it: an extra
                    // wake is one cheap ioctl on a rare path, and a lost one would be a hung vCPU.
                    if (wake)
                    {
                        Wake(destination + offset, pageSize);
                    }

                    present += pageSize;
                    offset += pageSize;
                    break;

                case UffdFillStatus.TryAgain:
                    retries++;
                    if (deadline == 0)
                    {
                        deadline = Stopwatch.GetTimestamp() + (long)(TryAgainBudget.TotalSeconds * Stopwatch.Frequency);
                    }
                    else if (Stopwatch.GetTimestamp() > deadline)
                    {
                        throw new UserfaultfdException(
                            kind == FillKind.Copy ? "UFFDIO_COPY" : "UFFDIO_ZEROPAGE",
                            Errno.EAGAIN,
                            "the kernel kept answering EAGAIN (address space changing) for " + TryAgainBudget
                            + ": a fork/remap/remove/unmap event is pending and nobody reads events from this userfaultfd.");
                    }

                    spinner.SpinOnce(sleep1Threshold: -1);
                    break;
            }
        }

        return new UffdPlacement(filled, present, retries);
    }

    private static UffdFillResult Interpret(string operation, int errno, long count, ulong start, ulong length)
    {
        switch (errno)
        {
            case Errno.EEXIST:
                return new UffdFillResult(UffdFillStatus.AlreadyPresent, 0);
            case Errno.EAGAIN when count > 0:
                return new UffdFillResult(UffdFillStatus.Partial, (ulong)count);
            case Errno.EAGAIN:
            case Errno.EINTR:
                return new UffdFillResult(UffdFillStatus.TryAgain, 0);
            default:
                ThrowRequestFailure(operation, errno, start, length);
                return default;
        }
    }

    private enum FillKind
    {
        Copy,
        Zero,
    }
}
