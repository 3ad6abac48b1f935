using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qmig.Benchmarks.Wire;

/// <summary>
/// A managed copy loop (four unaligned 32-byte loads and stores per step), for the diagnostic
/// benchmark that shows what the generated writer would gain by not handing page-sized byte
/// arrays to Span.CopyTo: above 2 KiB that goes to the C library's memmove, which on this machine
/// (AMD EPYC, glibc 2.36) is several times slower for 4 KiB when source and destination are not
/// aligned alike, as a page behind an 8-byte RAM record header is.
/// </summary>
public static class VectorCopy
{
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination.Slice(0, source.Length));
        nuint length = (nuint)source.Length;
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 128 <= length; i += 128)
            {
                var a = Vector256.LoadUnsafe(ref from, i);
                var b = Vector256.LoadUnsafe(ref from, i + 32);
                var c = Vector256.LoadUnsafe(ref from, i + 64);
                var d = Vector256.LoadUnsafe(ref from, i + 96);
                a.StoreUnsafe(ref to, i);
                b.StoreUnsafe(ref to, i + 32);
                c.StoreUnsafe(ref to, i + 64);
                d.StoreUnsafe(ref to, i + 96);
            }
        }

        source.Slice((int)i).CopyTo(destination.Slice((int)i));
    }
}
