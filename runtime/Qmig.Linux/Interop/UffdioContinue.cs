using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

/// <summary><c>struct uffdio_continue { struct uffdio_range range; u64 mode; s64 mapped; }</c> (32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct UffdioContinue
{
    [FieldOffset(0)] public UffdioRange Range;
    [FieldOffset(16)] public ulong Mode;
    [FieldOffset(24)] public long Mapped;
}
