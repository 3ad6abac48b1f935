using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

/// <summary><c>struct uffdio_range { u64 start, len; }</c> (16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct UffdioRange
{
    [FieldOffset(0)] public ulong Start;
    [FieldOffset(8)] public ulong Length;
}
