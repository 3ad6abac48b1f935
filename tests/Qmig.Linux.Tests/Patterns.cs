namespace Qmig.Linux.Tests;

internal static class Patterns
{
    /// <summary>A page whose every u64 says which page and which slot it is, tagged so different writers differ.</summary>
    public static byte[] Page(long pageIndex, ulong tag = 0xA5)
    {
        var page = new byte[Environment.SystemPageSize];
        Span<ulong> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(page.AsSpan());
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = Word(pageIndex, i, tag);
        }

        return page;
    }

    public static ulong Word(long pageIndex, int slot, ulong tag = 0xA5) => (tag << 56) | ((ulong)pageIndex << 16) | (uint)slot;
}
