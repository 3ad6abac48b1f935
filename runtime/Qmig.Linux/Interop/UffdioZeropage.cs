using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

/// <summary><c>struct uffdio_zeropage { struct uffdio_range range; u64 mode; s64 zeropage; }</c> (32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct UffdioZeropage
{
    [FieldOffset(0)] public UffdioRange Range;
    [FieldOffset(16)] public ulong Mode;
    [FieldOffset(24)] public long Zeroed;
}
