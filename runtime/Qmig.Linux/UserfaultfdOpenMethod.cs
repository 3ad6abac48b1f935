namespace Qmig.Linux;

/// <summary>How a userfaultfd is created.</summary>
public enum UserfaultfdOpenMethod
{
    /// <summary>The system call first; on EPERM or ENOSYS, /dev/userfaultfd.</summary>
    Auto,

    /// <summary>userfaultfd(2), syscall 323 on x86_64.</summary>
    Syscall,

    /// <summary>open("/dev/userfaultfd") + USERFAULTFD_IOC_NEW (Linux 6.1+); access is governed by the device node's permissions.</summary>
    Device,
}
