using Microsoft.Win32.SafeHandles;
using static Qmig.Wire.IO.MemoryMapping;

namespace Qmig.Wire.IO;

/// <summary>
/// A file mapped with mmap(2), Linux only. A walk that looks at record headers only (stats,
/// dump) reads a large stream in place without copying every byte through read(2); a writable
/// mapping is unmapped without msync (.NET's MemoryMappedViewAccessor flushes synchronously on
/// Dispose), so the kernel writes its pages back in its own time, as it does after write(2).
/// </summary>
internal sealed unsafe class FileMapping : IDisposable
{
    private byte* _base;

    private FileMapping(byte* pointer, long length)
    {
        _base = pointer;
        Length = length;
    }

    public long Length { get; }

    /// <summary>The mapping's first byte; valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer => _base != null ? _base : throw new ObjectDisposedException(nameof(FileMapping));

    /// <summary>Maps <paramref name="length"/> bytes of an open file, or returns null where mmap is not available (then read the file instead).</summary>
    public static FileMapping? TryMap(SafeFileHandle file, long length, bool writable)
    {
        if (!OperatingSystem.IsLinux() || length <= 0 || IntPtr.Size != 8)
        {
            return null;
        }

        var fd = (int)file.DangerousGetHandle();
        var pointer = Mmap(null, (nuint)length, ProtRead | (writable ? ProtWrite : 0), MapShared, fd, 0);
        if (pointer == Failed)
        {
            return null;
        }

        if (!writable)
        {
            // Sequential read-ahead; failure only costs speed.
            _ = Madvise(pointer, (nuint)length, MadvSequential);
        }

        return new FileMapping((byte*)pointer, length);
    }

    /// <summary>
    /// Maps the page tables of a range in one call instead of one fault per 4 KiB (Linux 5.14+;
    /// older kernels refuse it and the pages fault in as they are touched).
    /// </summary>
    public void Populate(long offset, long length, bool forWriting)
    {
        var page = offset & ~4095L;
        _ = Madvise(Pointer + page, (nuint)(length + offset - page), forWriting ? MadvPopulateWrite : MadvPopulateRead);
    }

    /// <summary>
    /// Gives a read-only mapping the kernel's ordinary read-around back after the sequential
    /// read-ahead it was mapped with: for a reader that jumps from page to page once a first pass is
    /// over (a page server), read-ahead would fetch what nobody asked for. Failure only costs speed.
    /// </summary>
    public void AdviseRandomReads() => _ = Madvise(Pointer, (nuint)Length, MadvNormal);

    public void Dispose()
    {
        if (_base != null)
        {
            _ = Munmap(_base, (nuint)Length);
            _base = null;
        }
    }
}
