using Xunit;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// Compares a pc.ram image (extracted, or what a QEMU loaded) with guest-physical memory that
/// pmemsave wrote: the same bytes, except under the legacy VGA window (0xa0000-0xbffff), where
/// pmemsave reads through to the (absent) VGA device instead of pc.ram.
/// </summary>
internal static class GuestMemory
{
    public static readonly (int Start, int End) VgaWindow = (0xa0000, 0xc0000);

    public static readonly (int Start, int End) Nothing = (0, 0);

    /// <summary>The first 4 KiB page outside <paramref name="skip"/> where the two differ, or null.</summary>
    public static int? FirstDifferingPage(byte[] expected, byte[] actual, (int Start, int End) skip)
    {
        Assert.True(expected.Length == actual.Length, $"{actual.Length} bytes against {expected.Length}");
        for (var page = 0; page < expected.Length; page += 4096)
        {
            if ((page < skip.Start || page >= skip.End) && !expected.AsSpan(page, 4096).SequenceEqual(actual.AsSpan(page, 4096)))
            {
                return page;
            }
        }

        return null;
    }

    public static void AssertSame(byte[] expected, byte[] actual, string what, (int Start, int End) skip)
    {
        var page = FirstDifferingPage(expected, actual, skip);
        Assert.True(page is null, $"{what}: guest-physical page 0x{page:x} differs from the source's");
    }
}
