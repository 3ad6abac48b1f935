using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

/// <summary><c>struct uffdio_api { u64 api, features, ioctls; }</c> (24 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct UffdioApi
{
    [FieldOffset(0)] public ulong Api;
    [FieldOffset(8)] public ulong Features;
    [FieldOffset(16)] public ulong Ioctls;
}
