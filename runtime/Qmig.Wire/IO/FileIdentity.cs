using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmig.Wire.IO;

/// <summary>
/// Which file, in which version: device, inode, size, and the modification and status-change
/// times to the nanosecond (statx(2), Linux). Any write to the file moves its change time, which
/// no user call can set back, so equal identities mean the bytes an index was made from are still
/// the bytes on disk, the same test git's index and make rely on, without reading the file.
/// </summary>
internal readonly partial record struct FileIdentity(ulong Device, ulong Inode, ulong Size, long ModifiedSeconds, uint ModifiedNanoseconds, long ChangedSeconds, uint ChangedNanoseconds)
{
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;

    /// <summary>The identity of an open file, or null where statx is not available.</summary>
    public static unsafe FileIdentity? Of(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // struct statx is 256 bytes with the same layout on every Linux architecture.
        var buffer = stackalloc byte[256];
        if (Statx((int)file.DangerousGetHandle(), "", AtEmptyPath, StatxBasicStats, buffer) != 0)
        {
            return null;
        }

        var device = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
        return new FileIdentity(device, *(ulong*)(buffer + 32), *(ulong*)(buffer + 40),
            *(long*)(buffer + 112), *(uint*)(buffer + 120), *(long*)(buffer + 96), *(uint*)(buffer + 104));
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
