using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

/// <summary>
/// <c>struct uffd_msg</c> (32 bytes, __packed): an event byte, 7 reserved bytes, then a 24-byte union
/// whose members overlap at offset 8.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct UffdMsg
{
    [FieldOffset(0)] public byte Event;

    // arg.pagefault
    [FieldOffset(8)] public ulong PagefaultFlags;
    [FieldOffset(16)] public ulong PagefaultAddress;
    [FieldOffset(24)] public uint PagefaultThreadId;

    // arg.fork
    [FieldOffset(8)] public uint ForkDescriptor;

    // arg.remap
    [FieldOffset(8)] public ulong RemapFrom;
    [FieldOffset(16)] public ulong RemapTo;
    [FieldOffset(24)] public ulong RemapLength;

    // arg.remove (also used by UNMAP)
    [FieldOffset(8)] public ulong RemoveStart;
    [FieldOffset(16)] public ulong RemoveEnd;
}
