using System.Runtime.InteropServices;

namespace Qmig.Linux.Interop;

/// <summary><c>struct msghdr</c> (56 bytes on x86_64 and aarch64); the sends here use no address and no control data.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    public nint Name;
    public uint NameLen;
    public GatherSegment* Iov;
    public nuint IovLen;
    public nint Control;
    public nuint ControlLen;
    public int Flags;
}
