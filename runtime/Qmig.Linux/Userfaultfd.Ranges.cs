using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

public sealed unsafe partial class Userfaultfd
{
    /// <summary>
    /// Registers [start, start+length) so that faults of the given kinds are reported on this descriptor.
    /// Returns the requests the kernel supports on that range (e.g. no ZeroPage on hugetlbfs); callers
    /// should check for the ones they rely on, as QEMU checks for COPY.
    /// </summary>
    public UffdIoctls Register(ulong start, ulong length, UffdRegisterMode mode)
    {
        ThrowIfDisposed();
        var request = new UffdioRegister { Range = new UffdioRange { Start = start, Length = length }, Mode = (ulong)mode };
        if (Libc.Ioctl(_fd, UffdAbi.UFFDIO_REGISTER, &request) != 0)
        {
            ThrowRequestFailure("UFFDIO_REGISTER", Marshal.GetLastPInvokeError(), start, length);
        }

        return (UffdIoctls)request.Ioctls;
    }

    /// <summary>
    /// Unregisters the range. The kernel wakes threads blocked on faults inside it (they retry and now
    /// fault normally, e.g. get a zero-filled page); threads blocked elsewhere stay blocked.
    /// </summary>
    public void Unregister(ulong start, ulong length)
    {
        ThrowIfDisposed();
        var range = new UffdioRange { Start = start, Length = length };
        if (Libc.Ioctl(_fd, UffdAbi.UFFDIO_UNREGISTER, &range) != 0)
        {
            ThrowRequestFailure("UFFDIO_UNREGISTER", Marshal.GetLastPInvokeError(), start, length);
        }
    }

    /// <summary>Wakes threads blocked on faults in the range (after fills issued with wake: false, or for a page found already present).</summary>
    public void Wake(ulong start, ulong length)
    {
        ThrowIfDisposed();
        var range = new UffdioRange { Start = start, Length = length };
        if (Libc.Ioctl(_fd, UffdAbi.UFFDIO_WAKE, &range) != 0)
        {
            ThrowRequestFailure("UFFDIO_WAKE", Marshal.GetLastPInvokeError(), start, length);
        }
    }

    /// <summary>
    /// Sets (<paramref name="protect"/> true) or clears write protection on a range registered in
    /// write-protect mode. Clearing wakes threads blocked on write-protect faults unless <paramref name="wake"/> is false;
    /// setting never wakes anyone (the kernel ignores DONTWAKE there, so QEMU only passes it when clearing).
    /// </summary>
    public void WriteProtect(ulong start, ulong length, bool protect, bool wake = true)
    {
        ThrowIfDisposed();
        ulong mode = protect
            ? UffdAbi.UFFDIO_WRITEPROTECT_MODE_WP
            : (wake ? 0 : UffdAbi.UFFDIO_WRITEPROTECT_MODE_DONTWAKE);
        var request = new UffdioWriteprotect { Range = new UffdioRange { Start = start, Length = length }, Mode = mode };
        if (Libc.Ioctl(_fd, UffdAbi.UFFDIO_WRITEPROTECT, &request) != 0)
        {
            ThrowRequestFailure("UFFDIO_WRITEPROTECT", Marshal.GetLastPInvokeError(), start, length);
        }
    }
}
