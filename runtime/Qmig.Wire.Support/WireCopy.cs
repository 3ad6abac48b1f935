using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qmig.Wire;

/// <summary>
/// Copies a byte array into a record being written. A page lands 8 or more bytes off the
/// alignment it had in guest memory, and for 2-64 KiB copies the C library's memmove (which
/// Span.CopyTo calls above 2 KiB) runs about 3x slower when source and destination are aligned
/// differently; a plain vector loop does not care. Source and destination must not overlap.
/// </summary>
/// <remarks>Called by generated readers and writers; public so that records generated into other assemblies can call it.</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class WireCopy
{
    /// <summary>Copies all of <paramref name="source"/> to the start of <paramref name="destination"/>, which must be at least as long.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.Length < 2048 || source.Length >= 1 << 20 || !System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            source.CopyTo(destination);
            return;
        }

        CopyLarge(source, destination.Slice(0, source.Length));
    }

    private static void CopyLarge(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ref var from = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
        ref var to = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        var length = (nuint)source.Length;
        nuint i = 0;
        for (; i + 128 <= length; i += 128)
        {
            var a = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref from, i);
            var b = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref from, i + 32);
            var c = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref from, i + 64);
            var d = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref from, i + 96);
            a.StoreUnsafe(ref to, i);
            b.StoreUnsafe(ref to, i + 32);
            c.StoreUnsafe(ref to, i + 64);
            d.StoreUnsafe(ref to, i + 96);
        }

        for (; i + 32 <= length; i += 32)
        {
            System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref from, i).StoreUnsafe(ref to, i);
        }

        if (i < length)
        {
            // The last 32 bytes, overlapping what was already copied.
            System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref from, length - 32).StoreUnsafe(ref to, length - 32);
        }
    }
}
