using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmig.Wire.IO;

/// <summary>One piece of a gathered write: <see cref="Length"/> bytes at <see cref="Base"/> (struct iovec).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVector(byte* pointer, nuint length)
{
    public byte* Base = pointer;
    public nuint Length = length;
}

/// <summary>
/// pwritev(2): pieces from anywhere in memory written back to back at one file offset in one
/// system call, so a run of pages scattered through a buffer lands in a file without being
/// gathered by a copy first. Where pwritev is not available each piece is written on its own.
/// </summary>
internal static unsafe partial class VectoredWrite
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

        var fd = (int)file.DangerousGetHandle();
        while (!vectors.IsEmpty)
        {
            var count = Math.Min(vectors.Length, MaxVectors);
            long written;
            fixed (IoVector* first = vectors)
            {
                written = Pwritev(fd, first, count, offset);
            }

            if (written < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == 4)
                {
                    continue; // EINTR: nothing was written
                }

                throw new IOException($"pwritev at offset 0x{offset:x}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }

            if (written == 0)
            {
                throw new IOException($"pwritev at offset 0x{offset:x} wrote nothing");
            }

            offset += written;
            while (!vectors.IsEmpty && written >= (long)vectors[0].Length)
            {
                written -= (long)vectors[0].Length;
                vectors = vectors[1..];
            }

            if (written > 0)
            {
                vectors[0] = new IoVector(vectors[0].Base + written, vectors[0].Length - (nuint)written);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "pwritev", SetLastError = true)]
    private static partial long Pwritev(int fd, IoVector* vectors, int count, long offset);
}
