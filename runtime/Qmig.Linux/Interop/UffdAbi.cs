namespace Qmig.Linux.Interop;

/// <summary>
/// linux/userfaultfd.h, x86_64. Request numbers are computed with <see cref="IoctlNumber"/> from the
/// header's _IOWR/_IOR lines (note UNREGISTER and WAKE are _IOR in the header even though the kernel
/// only reads their range: the direction bits are part of the number, so they must match exactly).
/// </summary>
internal static unsafe class UffdAbi
{
    public const long SYS_userfaultfd = 323;
    public const ulong UFFD_API = 0xAA;
    /// <summary>Flag for userfaultfd(2) / USERFAULTFD_IOC_NEW: trap only faults taken in user mode.</summary>
    public const int UFFD_USER_MODE_ONLY = 1;
    public const string DevicePath = "/dev/userfaultfd";

    /// <summary>The ioctl "type" byte of every userfaultfd request (UFFDIO and USERFAULTFD_IOC).</summary>
    private const uint Type = 0xAA;

    // _UFFDIO_* command numbers; also the bit positions in the 'ioctls' masks the kernel returns.
    public const int NrRegister = 0x00;
    public const int NrUnregister = 0x01;
    public const int NrWake = 0x02;
    public const int NrCopy = 0x03;
    public const int NrZeropage = 0x04;
    public const int NrMove = 0x05;
    public const int NrWriteprotect = 0x06;
    public const int NrContinue = 0x07;
    public const int NrPoison = 0x08;
    public const int NrApi = 0x3F;

    public static readonly nuint UFFDIO_API = IoctlNumber.ReadWrite(Type, NrApi, (uint)sizeof(UffdioApi));
    public static readonly nuint UFFDIO_REGISTER = IoctlNumber.ReadWrite(Type, NrRegister, (uint)sizeof(UffdioRegister));
    public static readonly nuint UFFDIO_UNREGISTER = IoctlNumber.Read(Type, NrUnregister, (uint)sizeof(UffdioRange));
    public static readonly nuint UFFDIO_WAKE = IoctlNumber.Read(Type, NrWake, (uint)sizeof(UffdioRange));
    public static readonly nuint UFFDIO_COPY = IoctlNumber.ReadWrite(Type, NrCopy, (uint)sizeof(UffdioCopy));
    public static readonly nuint UFFDIO_ZEROPAGE = IoctlNumber.ReadWrite(Type, NrZeropage, (uint)sizeof(UffdioZeropage));
    public static readonly nuint UFFDIO_WRITEPROTECT = IoctlNumber.ReadWrite(Type, NrWriteprotect, (uint)sizeof(UffdioWriteprotect));
    public static readonly nuint UFFDIO_CONTINUE = IoctlNumber.ReadWrite(Type, NrContinue, (uint)sizeof(UffdioContinue));
    /// <summary>USERFAULTFD_IOC_NEW = _IO(USERFAULTFD_IOC, 0x00), issued on /dev/userfaultfd.</summary>
    public static readonly nuint USERFAULTFD_IOC_NEW = IoctlNumber.None(Type, 0x00);

    // uffd_msg.event
    public const byte UFFD_EVENT_PAGEFAULT = 0x12;
    public const byte UFFD_EVENT_FORK = 0x13;
    public const byte UFFD_EVENT_REMAP = 0x14;
    public const byte UFFD_EVENT_REMOVE = 0x15;
    public const byte UFFD_EVENT_UNMAP = 0x16;

    // mode fields
    public const ulong UFFDIO_COPY_MODE_DONTWAKE = 1UL << 0;
    public const ulong UFFDIO_COPY_MODE_WP = 1UL << 1;
    public const ulong UFFDIO_ZEROPAGE_MODE_DONTWAKE = 1UL << 0;
    public const ulong UFFDIO_WRITEPROTECT_MODE_WP = 1UL << 0;
    public const ulong UFFDIO_WRITEPROTECT_MODE_DONTWAKE = 1UL << 1;
    public const ulong UFFDIO_CONTINUE_MODE_DONTWAKE = 1UL << 0;
    public const ulong UFFDIO_CONTINUE_MODE_WP = 1UL << 1;
}
