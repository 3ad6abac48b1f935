using System.Globalization;
using System.Runtime.InteropServices;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>Turns the kernel's refusals into messages that say what happened and how to fix it.</summary>
internal static class UserfaultfdDiagnostics
{
    private const string SysctlPath = "/proc/sys/vm/unprivileged_userfaultfd";

    public static string DescribeSyscallFailure(int errno, bool userModeOnly) => errno switch
    {
        Errno.EPERM =>
            "userfaultfd(2) failed with EPERM: this process lacks CAP_SYS_PTRACE and vm.unprivileged_userfaultfd="
            + ReadSysctl()
            + ", so the kernel only lets unprivileged processes trap user-mode faults"
            + (userModeOnly ? " (and refused even that)" : "")
            + ". Fix: run as root (or with CAP_SYS_PTRACE), or `sysctl -w vm.unprivileged_userfaultfd=1`, "
            + "or give this user read/write access to /dev/userfaultfd (Linux 6.1+) and open through it.",
        Errno.ENOSYS =>
            "userfaultfd(2) failed with ENOSYS: the kernel has no userfaultfd support (built without CONFIG_USERFAULTFD), "
            + "or a seccomp filter blocks system call 323 (container runtimes' default profiles do). "
            + "Fix: use a kernel with CONFIG_USERFAULTFD=y, or allow userfaultfd in the seccomp profile "
            + "(docker/podman: --security-opt seccomp=unconfined, or a profile that lists userfaultfd).",
        Errno.EINVAL =>
            "userfaultfd(2) failed with EINVAL: the kernel rejected the flags (UFFD_USER_MODE_ONLY needs Linux 5.11+).",
        _ => "userfaultfd(2) failed with " + Errno.Name(errno) + ": " + Marshal.GetPInvokeErrorMessage(errno) + ".",
    };

    public static string DescribeDeviceFailure(int errno, string step) => errno switch
    {
        Errno.ENOENT =>
            "/dev/userfaultfd does not exist: the kernel is older than 6.1 or the node was not created. "
            + "Fix: on Linux 6.1+ create it (`mknod /dev/userfaultfd c 10 $(awk '$2==\"userfaultfd\"{print $1}' /proc/misc)`), or use the system call.",
        Errno.EACCES or Errno.EPERM =>
            "opening /dev/userfaultfd failed with " + Errno.Name(errno) + ": this user has no read/write permission on the device node. "
            + "Fix: run as root, or grant access (`chgrp <group> /dev/userfaultfd && chmod 660 /dev/userfaultfd`, or setfacl).",
        Errno.ENODEV or Errno.ENXIO =>
            "/dev/userfaultfd exists but no driver answers (" + Errno.Name(errno) + "): the kernel was built without CONFIG_USERFAULTFD.",
        _ => step + " on /dev/userfaultfd failed with " + Errno.Name(errno) + ": " + Marshal.GetPInvokeErrorMessage(errno) + ".",
    };

    public static string DescribeApiFailure(int errno, UffdFeatures requested) => errno switch
    {
        Errno.EPERM =>
            "UFFDIO_API failed with EPERM: UFFD_FEATURE_EVENT_FORK (requested: " + requested + ") needs CAP_SYS_PTRACE. "
            + "Fix: run as root, or do not request EventFork.",
        Errno.EINVAL =>
            "UFFDIO_API failed with EINVAL: the kernel does not speak UFFD_API 0xAA or refused the requested features (" + requested + ").",
        _ => "UFFDIO_API failed with " + Errno.Name(errno) + ": " + Marshal.GetPInvokeErrorMessage(errno) + ".",
    };

    public static string DescribeRequestFailure(string operation, int errno, ulong start, ulong length)
    {
        string hint = errno switch
        {
            Errno.ENOENT => " (the range is not registered with this userfaultfd, or no longer mapped)",
            Errno.EINVAL => " (start or length not aligned to the range's page size, or the range is not valid for this request)",
            Errno.ESRCH => " (the process owning the registered memory has exited)",
            Errno.EFAULT => " (the source buffer is not readable)",
            Errno.EBUSY => " (the range is already registered with another userfaultfd)",
            Errno.ENOMEM => " (out of memory while populating the range)",
            _ => "",
        };
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{operation} on [0x{start:X}, +0x{length:X}) failed with {Errno.Name(errno)}: {Marshal.GetPInvokeErrorMessage(errno)}{hint}.");
    }

    private static string ReadSysctl()
    {
        try
        {
            return File.ReadAllText(SysctlPath).Trim();
        }
        catch (IOException)
        {
            return "0 (" + SysctlPath + " unreadable)";
        }
        catch (UnauthorizedAccessException)
        {
            return "0 (" + SysctlPath + " unreadable)";
        }
    }
}
