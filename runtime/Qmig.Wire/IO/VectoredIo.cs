using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmig.Wire.IO;

/// <summary>One piece of a gathered write or scattered read: <see cref="Length"/> bytes at <see cref="Base"/> (struct iovec).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVector(byte* pointer, nuint length)
{
    public byte* Base = pointer;
    public nuint Length = length;
}

/// <summary>
/// pwritev(2) and preadv(2): pieces anywhere in memory written to, or read from, one run of a file in one
/// system call. A run of pages scattered through a buffer lands in a file without being gathered by a copy
/// first, and a run of page records in a file is read straight into the pages' places, the bytes between
/// them into a discarded piece. Where the calls are not available each piece is done on its own.
/// </summary>
internal static unsafe partial class VectoredIo
{
    /// <summary>At most this many pieces go into one call (Linux's IOV_MAX).</summary>
    public const int MaxVectors = 1024;

    /// <summary>Writes every byte of <paramref name="vectors"/> at <paramref name="offset"/>, retrying short writes; throws <see cref="IOException"/> on failure.</summary>
    public static void Write(SafeFileHandle file, Span<IoVector> vectors, long offset)
    {
        if (!OperatingSystem.IsLinux())
        {
            foreach (var vector in vectors)
            {
                RandomAccess.Write(file, new ReadOnlySpan<byte>(vector.Base, checked((int)vector.Length)), offset);
                offset += (long)vector.Length;
            }

            return;
        }

        Transfer(file, vectors, offset, "pwritev", &Pwritev);
    }

    /// <summary>
    /// Fills every byte of <paramref name="vectors"/> from <paramref name="offset"/> on, retrying short reads;
    /// throws <see cref="IOException"/> on failure or when the file ends first.
    /// </summary>
    public static void Read(SafeFileHandle file, Span<IoVector> vectors, long offset)
    {
        if (!OperatingSystem.IsLinux())
        {
            foreach (var vector in vectors)
            {
                var piece = new Span<byte>(vector.Base, checked((int)vector.Length));
                if (RandomAccess.Read(file, piece, offset) != piece.Length)
                {
                    throw new IOException($"the file ends before offset 0x{offset + piece.Length:x}");
                }

                offset += piece.Length;
            }

            return;
        }

        Transfer(file, vectors, offset, "preadv", &Preadv);
    }

    private static void Transfer(SafeFileHandle file, Span<IoVector> vectors, long offset, string call, delegate*<int, IoVector*, int, long, long> transfer)
    {
        var fd = (int)file.DangerousGetHandle();
        while (!vectors.IsEmpty)
        {
            var count = Math.Min(vectors.Length, MaxVectors);
            long done;
            fixed (IoVector* first = vectors)
            {
                done = transfer(fd, first, count, offset);
            }

            if (done < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == 4)
                {
                    continue; // EINTR: nothing was transferred
                }

                throw new IOException($"{call} at offset 0x{offset:x}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }

            if (done == 0)
            {
                throw new IOException($"{call} at offset 0x{offset:x} moved nothing (the file ends there)");
            }

            offset += done;
            while (!vectors.IsEmpty && done >= (long)vectors[0].Length)
            {
                done -= (long)vectors[0].Length;
                vectors = vectors[1..];
            }

            if (done > 0)
            {
                vectors[0] = new IoVector(vectors[0].Base + done, vectors[0].Length - (nuint)done);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "pwritev", SetLastError = true)]
    private static partial long Pwritev(int fd, IoVector* vectors, int count, long offset);

    [LibraryImport("libc", EntryPoint = "preadv", SetLastError = true)]
    private static partial long Preadv(int fd, IoVector* vectors, int count, long offset);
}
