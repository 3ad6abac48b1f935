using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

/// <summary><c>struct uffdio_writeprotect { struct uffdio_range range; u64 mode; }</c> (24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct UffdioWriteprotect
{
    [FieldOffset(0)] public UffdioRange Range;
    [FieldOffset(16)] public ulong Mode;
}
