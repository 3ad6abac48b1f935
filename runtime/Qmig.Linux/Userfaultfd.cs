using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// A userfaultfd: the kernel object through which this process is told about accesses to registered
/// memory it has not populated yet (postcopy's missing pages), and through which it resolves them.
/// </summary>
/// <remarks>
/// <para>Thread safety: the request methods (Register, Copy, ZeroPage, Wake, ...) may be called from any
/// number of threads at once, as the kernel serialises them per page. <see cref="ReadEvents"/> admits one
/// reader at a time, as QEMU's single fault thread does.</para>
/// <para>The descriptor is opened non-blocking and close-on-exec. An eventfd created alongside it lets
/// <see cref="ReadEvents"/> be cancelled, and lets <see cref="Dispose"/> wake a reader parked in poll.</para>
/// </remarks>
public sealed unsafe partial class Userfaultfd : IDisposable
{
    private readonly SafeFileDescriptor _fd;
    private readonly SafeFileDescriptor _kick;
    private volatile bool _disposed;

    private Userfaultfd(SafeFileDescriptor fd, UffdFeatures features, UffdFeatures kernelFeatures, UffdIoctls ioctls, UserfaultfdOpenMethod openedVia)
    {
        _fd = fd;
        Features = features;
        KernelFeatures = kernelFeatures;
        Ioctls = ioctls;
        OpenedVia = openedVia;
        int kick = Libc.EventFd(0, LinuxConstants.EFD_CLOEXEC | LinuxConstants.EFD_NONBLOCK);
        if (kick < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            fd.Dispose();
            throw new UserfaultfdException("eventfd", errno, "eventfd() for the userfaultfd reader failed with " + Errno.Name(errno) + ".");
        }

        _kick = new SafeFileDescriptor(kick);
    }

    /// <summary>Features enabled on this descriptor by the handshake.</summary>
    public UffdFeatures Features { get; }

    /// <summary>Every feature the kernel offered in the handshake (a superset of <see cref="Features"/>).</summary>
    public UffdFeatures KernelFeatures { get; }

    /// <summary>Requests valid on the descriptor itself (API, REGISTER, UNREGISTER); per-range ones come from <see cref="Register"/>.</summary>
    public UffdIoctls Ioctls { get; }

    /// <summary>How the descriptor was created (system call or /dev/userfaultfd), for diagnostics when one of them is refused.</summary>
    public UserfaultfdOpenMethod OpenedVia { get; }

    /// <summary>The descriptor, for polling it together with other descriptors.</summary>
    public SafeFileDescriptor Handle => _fd;

    /// <summary>
    /// Asks the kernel what it offers, with a throw-away descriptor: UFFDIO_API may be issued only once
    /// per descriptor, and the features to enable must be named in that one call (QEMU probes the same way).
    /// </summary>
    public static UserfaultfdCapabilities Probe(UserfaultfdOpenMethod method = UserfaultfdOpenMethod.Auto, bool userModeOnly = false)
    {
        using SafeFileDescriptor probe = OpenDescriptor(method, userModeOnly, out UserfaultfdOpenMethod openedVia);
        UffdioApi api = Handshake(probe, UffdFeatures.None);
        return new UserfaultfdCapabilities((UffdFeatures)api.Features, (UffdIoctls)api.Ioctls, openedVia);
    }

    /// <summary>Opens a descriptor and negotiates features: all of the required ones, and those optional ones the kernel offers.</summary>
    /// <exception cref="UserfaultfdUnavailableException">The kernel refused (the message says why and how to fix it), or lacks a required feature.</exception>
    public static Userfaultfd Open(UserfaultfdOptions? options = null)
    {
        options ??= new UserfaultfdOptions();
        UffdFeatures offered;
        UserfaultfdOpenMethod method = options.OpenMethod;
        if (options.OptionalFeatures != UffdFeatures.None || options.RequiredFeatures != UffdFeatures.None)
        {
            UserfaultfdCapabilities capabilities = Probe(method, options.UserModeOnly);
            offered = capabilities.Features;
            // Open the real descriptor the way the probe succeeded, so both see the same kernel object type.
            method = capabilities.OpenedVia;
            UffdFeatures missing = options.RequiredFeatures & ~offered;
            if (missing != UffdFeatures.None)
            {
                throw new UserfaultfdUnavailableException(
                    "the kernel does not offer the required userfaultfd feature(s) " + missing + " (it offers " + offered + "). "
                    + "Fix: use a newer kernel, or do not require them.",
                    Errno.EINVAL);
            }
        }
        else
        {
            offered = UffdFeatures.None;
        }

        UffdFeatures requested = options.RequiredFeatures | (options.OptionalFeatures & offered);
        SafeFileDescriptor fd = OpenDescriptor(method, options.UserModeOnly, out UserfaultfdOpenMethod openedVia);
        try
        {
            UffdioApi api = Handshake(fd, requested);
            // The kernel reports its full feature set in every handshake, so the probe's answer is confirmed here.
            UffdFeatures enabled = requested;
            if ((enabled & UffdFeatures.WriteProtectAsync) != 0)
            {
                // The kernel turns this on by itself whenever WP_ASYNC is asked for.
                enabled |= UffdFeatures.WriteProtectUnpopulated;
            }

            return new Userfaultfd(fd, enabled, (UffdFeatures)api.Features, (UffdIoctls)api.Ioctls, openedVia);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Closes the descriptor; a reader blocked in <see cref="ReadEvents"/> wakes and gets <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        // Wake a reader parked in poll: closing a descriptor does not interrupt a poll on it, and the
        // reader's reference keeps the descriptor open until it leaves anyway.
        Kick();
        _fd.Dispose();
        _kick.Dispose();
    }

    private static SafeFileDescriptor OpenDescriptor(UserfaultfdOpenMethod method, bool userModeOnly, out UserfaultfdOpenMethod openedVia)
    {
        int flags = LinuxConstants.O_CLOEXEC | LinuxConstants.O_NONBLOCK | (userModeOnly ? UffdAbi.UFFD_USER_MODE_ONLY : 0);
        switch (method)
        {
            case UserfaultfdOpenMethod.Syscall:
            {
                openedVia = UserfaultfdOpenMethod.Syscall;
                return TryOpenWithSyscall(flags, out int errno)
                    ?? throw new UserfaultfdUnavailableException(UserfaultfdDiagnostics.DescribeSyscallFailure(errno, userModeOnly), errno);
            }

            case UserfaultfdOpenMethod.Device:
            {
                openedVia = UserfaultfdOpenMethod.Device;
                return TryOpenWithDevice(flags, out int errno, out string message)
                    ?? throw new UserfaultfdUnavailableException(message, errno);
            }

            default:
            {
                SafeFileDescriptor? fd = TryOpenWithSyscall(flags, out int syscallErrno);
                if (fd is not null)
                {
                    openedVia = UserfaultfdOpenMethod.Syscall;
                    return fd;
                }

                fd = TryOpenWithDevice(flags, out int deviceErrno, out string deviceMessage);
                if (fd is not null)
                {
                    openedVia = UserfaultfdOpenMethod.Device;
                    return fd;
                }

                throw new UserfaultfdUnavailableException(
                    UserfaultfdDiagnostics.DescribeSyscallFailure(syscallErrno, userModeOnly) + " Fallback: " + deviceMessage,
                    syscallErrno);
            }
        }
    }

    private static SafeFileDescriptor? TryOpenWithSyscall(int flags, out int errno)
    {
        long fd = Libc.Syscall(UffdAbi.SYS_userfaultfd, flags);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new SafeFileDescriptor((int)fd);
    }

    private static SafeFileDescriptor? TryOpenWithDevice(int flags, out int errno, out string message)
    {
        int device = Libc.Open(UffdAbi.DevicePath, LinuxConstants.O_RDWR | LinuxConstants.O_CLOEXEC);
        if (device < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            message = UserfaultfdDiagnostics.DescribeDeviceFailure(errno, "open");
            return null;
        }

        using var deviceHandle = new SafeFileDescriptor(device);
        // USERFAULTFD_IOC_NEW takes the userfaultfd(2) flags by value and returns the new descriptor.
        int fd = Libc.IoctlValue(deviceHandle, UffdAbi.USERFAULTFD_IOC_NEW, flags);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            message = UserfaultfdDiagnostics.DescribeDeviceFailure(errno, "USERFAULTFD_IOC_NEW");
            return null;
        }

        errno = 0;
        message = string.Empty;
        return new SafeFileDescriptor(fd);
    }

    private static UffdioApi Handshake(SafeFileDescriptor fd, UffdFeatures requested)
    {
        var api = new UffdioApi { Api = UffdAbi.UFFD_API, Features = (ulong)requested };
        if (Libc.Ioctl(fd, UffdAbi.UFFDIO_API, &api) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new UserfaultfdUnavailableException(UserfaultfdDiagnostics.DescribeApiFailure(errno, requested), errno);
        }

        const UffdIoctls needed = UffdIoctls.Register | UffdIoctls.Unregister;
        if (((UffdIoctls)api.Ioctls & needed) != needed)
        {
            throw new UserfaultfdUnavailableException(
                "UFFDIO_API succeeded but the kernel does not offer UFFDIO_REGISTER/UNREGISTER (ioctls=0x" + api.Ioctls.ToString("X", System.Globalization.CultureInfo.InvariantCulture) + ").",
                Errno.ENOSYS);
        }

        return api;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowRequestFailure(string operation, int errno, ulong start, ulong length)
        => throw new UserfaultfdException(operation, errno, UserfaultfdDiagnostics.DescribeRequestFailure(operation, errno, start, length));
}
