using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// Owns a Linux file descriptor. A SafeHandle rather than a bare int so that a descriptor in use by one
/// thread (a fault reader blocked in poll, a placer inside UFFDIO_COPY) is never closed and reused
/// underneath it: close waits until the last in-flight call has released its reference.
/// </summary>
public sealed class SafeFileDescriptor : SafeHandle
{
    /// <summary>An invalid descriptor (-1), for the marshaller to fill or for a handle not yet opened.</summary>
    public SafeFileDescriptor()
        : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    /// <summary>Takes <paramref name="fd"/>; it is closed on dispose unless <paramref name="ownsHandle"/> is false.</summary>
    public SafeFileDescriptor(int fd, bool ownsHandle = true)
        : base(new IntPtr(-1), ownsHandle)
    {
        SetHandle(new IntPtr(fd));
    }

    /// <summary>True for a negative number: no descriptor to close.</summary>
    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw number, for diagnostics and for handing to code outside this process's managed world.</summary>
    public int Number => (int)handle.ToInt64();

    /// <summary>Closes the descriptor once no call holds a reference to it any more.</summary>
    protected override bool ReleaseHandle() => Libc.Close((int)handle.ToInt64()) == 0;
}
