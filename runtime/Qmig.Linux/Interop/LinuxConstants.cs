namespace Qmig.Linux.Interop;

/// <summary>Flag values from the x86_64 glibc/kernel headers that the mappings and descriptors here use.</summary>
internal static class LinuxConstants
{
    // fcntl.h
    public const int O_RDWR = 0x2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    // sys/mman.h
    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int MAP_SHARED = 0x01;
    public const int MAP_PRIVATE = 0x02;
    public const int MAP_FIXED = 0x10;
    public const int MAP_ANONYMOUS = 0x20;
    public const int MAP_NORESERVE = 0x4000;
    public const int MADV_DONTNEED = 4;
    public const int MADV_REMOVE = 9;
    public const int MADV_NOHUGEPAGE = 15;
    public const int MREMAP_MAYMOVE = 1;
    public const int MREMAP_FIXED = 2;

    // sys/mman.h (memfd_create)
    public const uint MFD_CLOEXEC = 0x1;
    public const uint MFD_HUGETLB = 0x4;

    /// <summary>With MFD_HUGETLB, log2 of the huge page size goes in the flag bits from here up.</summary>
    public const int MFD_HUGE_SHIFT = 26;

    // sys/eventfd.h
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    // sys/socket.h
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_MORE = 0x8000;

    // poll.h
    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;
}
