namespace Qmig.Linux.Interop;

/// <summary>
/// Builds ioctl request numbers the way asm-generic/ioctl.h does, so each UFFDIO_* number below is
/// derived from the kernel's own definition (type, number, argument size, direction) instead of being
/// copied as an opaque constant. The tests pin the results against the values the C headers give.
/// </summary>
/// <remarks>
/// Layout of the 32-bit request word on x86_64 (the "generic" layout):
/// bits 0..7 = nr, 8..15 = type, 16..29 = argument size (14 bits), 30..31 = direction
/// (_IOC_NONE = 0, _IOC_WRITE = 1, _IOC_READ = 2; "write" means user space writes to the kernel).
/// </remarks>
internal static class IoctlNumber
{
    private const int NrShift = 0;
    private const int TypeShift = 8;
    private const int SizeShift = 16;
    private const int DirectionShift = 30;
    private const uint SizeMask = (1u << 14) - 1;

    private const uint DirectionNone = 0;
    private const uint DirectionWrite = 1;
    private const uint DirectionRead = 2;

    /// <summary>_IOC(dir, type, nr, size).</summary>
    public static uint Encode(uint direction, uint type, uint nr, uint size)
    {
        if (type > 0xFF || nr > 0xFF || size > SizeMask || direction > 3)
        {
            throw new ArgumentOutOfRangeException(nameof(size), "ioctl field out of range");
        }

        return (direction << DirectionShift) | (size << SizeShift) | (type << TypeShift) | (nr << NrShift);
    }

    /// <summary>_IO(type, nr): no argument structure.</summary>
    public static uint None(uint type, uint nr) => Encode(DirectionNone, type, nr, 0);

    /// <summary>_IOR(type, nr, size): the kernel writes the structure back to user space.</summary>
    public static uint Read(uint type, uint nr, uint size) => Encode(DirectionRead, type, nr, size);

    /// <summary>_IOW(type, nr, size): user space passes the structure in.</summary>
    public static uint Write(uint type, uint nr, uint size) => Encode(DirectionWrite, type, nr, size);

    /// <summary>_IOWR(type, nr, size): the structure goes in and comes back.</summary>
    public static uint ReadWrite(uint type, uint nr, uint size) => Encode(DirectionRead | DirectionWrite, type, nr, size);
}
