using System.Runtime.InteropServices;
using static Qmig.Wire.IO.MemoryMapping;

namespace Qmig.Wire.IO;

/// <summary>
/// Zeroed native memory for large tables such as a page index (8 bytes per 4 KiB page: 2 MiB per GiB of
/// guest RAM). From 2 MiB on, on 64-bit Linux, it is an anonymous mapping aligned to 2 MiB and advised
/// as huge-page memory, so filling it takes one page fault per 2 MiB rather than one per 4 KiB: reading
/// a 2 MiB index into fresh calloc memory took 6 ms on a paravirtualized machine, into such a mapping
/// 0.24 ms. Elsewhere, and for less than 2 MiB, it is calloc's. Either way nothing is resident until written.
/// </summary>
internal static unsafe class LargeZeroedMemory
{
    private const nuint HugePage = 2 << 20;

    /// <exception cref="OutOfMemoryException">The memory could not be reserved.</exception>
    public static void* Allocate(nuint bytes)
    {
        if (!UsesMapping(bytes))
        {
            return NativeMemory.AllocZeroed(Math.Max(bytes, 1));
        }

        var rounded = RoundUp(bytes);
        // One huge page more than needed, so an aligned start lies inside; the ends are given back.
        var mapped = (byte*)Mmap(null, rounded + HugePage, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (mapped == Failed)
        {
            throw new OutOfMemoryException($"mmap of {rounded + HugePage} bytes failed (errno {Marshal.GetLastSystemError()})");
        }

        var start = (byte*)(((nuint)mapped + HugePage - 1) & ~(HugePage - 1));
        var head = (nuint)(start - mapped);
        if (head > 0)
        {
            _ = Munmap(mapped, head);
        }

        _ = Munmap(start + rounded, HugePage - head);

        // Refused where transparent huge pages are off: then it only costs speed.
        _ = Madvise(start, rounded, MadvHugePage);
        return start;
    }

    /// <summary>Frees what <see cref="Allocate"/> returned for the same <paramref name="bytes"/>.</summary>
    public static void Free(void* pointer, nuint bytes)
    {
        if (UsesMapping(bytes))
        {
            _ = Munmap(pointer, RoundUp(bytes));
        }
        else
        {
            NativeMemory.Free(pointer);
        }
    }

    private static bool UsesMapping(nuint bytes) => bytes >= HugePage && OperatingSystem.IsLinux() && IntPtr.Size == 8;

    private static nuint RoundUp(nuint bytes) => (bytes + HugePage - 1) & ~(HugePage - 1);
}
