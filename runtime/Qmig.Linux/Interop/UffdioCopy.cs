using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

/// <summary><c>struct uffdio_copy { u64 dst, src, len, mode; s64 copy; }</c> (40 bytes).</summary>
/// <remarks><c>copy</c> is written by the kernel: bytes copied, or a negative errno when nothing was.</remarks>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct UffdioCopy
{
    [FieldOffset(0)] public ulong Destination;
    [FieldOffset(8)] public ulong Source;
    [FieldOffset(16)] public ulong Length;
    [FieldOffset(24)] public ulong Mode;
    [FieldOffset(32)] public long Copied;
}
