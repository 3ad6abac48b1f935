using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// Reads and writes memory that may fault into a userfaultfd, doing the access inside native code.
/// </summary>
/// <remarks>
/// A managed thread blocked in a userfault stops at an instruction that is not a GC safe point, so a
/// garbage collection that starts meanwhile waits for the fault to be resolved; if the thread that
/// resolves it (the fault reader, the placer) needs to re-enter managed code, it waits for the
/// collection, and nothing moves again. A thread inside a P/Invoke is in preemptive mode, so the
/// collection proceeds without it: hence the copy through libc's memcpy. vCPU threads are native anyway;
/// this is for tests, tools and anything else in this process that touches guest memory.
/// </remarks>
public static unsafe class FaultingMemory
{
    /// <summary>Copies guest memory at <paramref name="address"/> into <paramref name="destination"/>, waiting in native code if a page is still missing.</summary>
    public static void Read(ulong address, Span<byte> destination)
    {
        fixed (byte* target = destination)
        {
            _ = Libc.Memcpy(target, (void*)address, (nuint)destination.Length);
        }
    }

    /// <summary>Copies <paramref name="source"/> into guest memory at <paramref name="address"/>, waiting in native code if a page is still missing.</summary>
    public static void Write(ulong address, ReadOnlySpan<byte> source)
    {
        fixed (byte* data = source)
        {
            _ = Libc.Memcpy((void*)address, data, (nuint)source.Length);
        }
    }

    /// <summary>Reads the 8 bytes at <paramref name="address"/> (host byte order), waiting in native code if the page is still missing.</summary>
    public static ulong ReadUInt64(ulong address)
    {
        ulong value;
        _ = Libc.Memcpy(&value, (void*)address, sizeof(ulong));
        return value;
    }

    /// <summary>Writes <paramref name="value"/> at <paramref name="address"/> (host byte order), waiting in native code if the page is still missing.</summary>
    public static void WriteUInt64(ulong address, ulong value)
        => _ = Libc.Memcpy((void*)address, &value, sizeof(ulong));
}
