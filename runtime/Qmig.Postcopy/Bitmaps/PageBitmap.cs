using System.Numerics;

namespace Qmig.Postcopy.Bitmaps;

/// <summary>
/// One bit per target page of a RAM block, in little-endian 64-bit words (bit i = word i/64, bit i%64),
/// the layout QEMU uses for its migration bitmaps and for the RECV_BITMAP blob. Single-bit updates are
/// atomic (Interlocked.Or/And), so a dirty-log sync and the sender may touch the same word.
/// Bits past <see cref="Length"/> in the last word are kept zero.
/// </summary>
public abstract class PageBitmap
{
    private readonly ulong[] _words;

    /// <summary>A bitmap of <paramref name="length"/> pages, all clear.</summary>
    protected PageBitmap(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _words = new ulong[(length + 63) / 64];
    }

    /// <summary>Number of pages (bits).</summary>
    public long Length { get; }

    /// <summary>The words themselves, for bulk loads and for combining maps word by word.</summary>
    public ReadOnlySpan<ulong> Words => _words;

    /// <summary>Whether <paramref name="page"/>'s bit is set; throws for a page outside the map.</summary>
    public bool Test(long page)
    {
        Check(page);
        return (Volatile.Read(ref _words[page >> 6]) & (1UL << (int)(page & 63))) != 0;
    }

    /// <summary>Sets <paramref name="page"/>'s bit atomically, leaving the other bits of its word as another thread left them.</summary>
    public void Set(long page)
    {
        Check(page);
        Interlocked.Or(ref _words[page >> 6], 1UL << (int)(page & 63));
    }

    /// <summary>Clears <paramref name="page"/>'s bit atomically, leaving the other bits of its word as another thread left them.</summary>
    public void Clear(long page)
    {
        Check(page);
        Interlocked.And(ref _words[page >> 6], ~(1UL << (int)(page & 63)));
    }

    /// <summary>Clears the bit and says whether it was set, atomically (the sender's "take this dirty page").</summary>
    public bool TestAndClear(long page)
    {
        Check(page);
        ulong bit = 1UL << (int)(page & 63);
        return (Interlocked.And(ref _words[page >> 6], ~bit) & bit) != 0;
    }

    /// <summary>Sets the bits of <paramref name="count"/> pages from <paramref name="first"/>, a word at a time; throws when the run leaves the map.</summary>
    public void SetRange(long first, long count) => ApplyRange(first, count, set: true);

    /// <summary>Clears the bits of <paramref name="count"/> pages from <paramref name="first"/>, a word at a time; throws when the run leaves the map.</summary>
    public void ClearRange(long first, long count) => ApplyRange(first, count, set: false);

    /// <summary>Sets every page's bit (the bits past <see cref="Length"/> stay clear).</summary>
    public void SetAll() => SetRange(0, Length);

    /// <summary>Clears every bit; not atomic as a whole, so call it when no other thread updates the map.</summary>
    public void ClearAll() => Array.Clear(_words);

    /// <summary>How many pages have their bit set: for a dirty bitmap, the pages still to send.</summary>
    public long CountSet()
    {
        long count = 0;
        foreach (ulong word in _words)
        {
            count += BitOperations.PopCount(word);
        }

        return count;
    }

    /// <summary>The first set bit at or after <paramref name="from"/>, or -1.</summary>
    public long FindNextSet(long from)
    {
        if (from < 0 || from >= Length)
        {
            return -1;
        }

        long wordIndex = from >> 6;
        ulong word = Volatile.Read(ref _words[wordIndex]) & (ulong.MaxValue << (int)(from & 63));
        while (true)
        {
            if (word != 0)
            {
                long bit = (wordIndex << 6) + BitOperations.TrailingZeroCount(word);
                return bit < Length ? bit : -1;
            }

            if (++wordIndex >= _words.Length)
            {
                return -1;
            }

            word = Volatile.Read(ref _words[wordIndex]);
        }
    }

    private void ApplyRange(long first, long count, bool set)
    {
        if (first < 0 || count < 0 || first > Length - count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"pages [{first}, {first}+{count}) outside [0, {Length})");
        }

        long end = first + count;
        while (first < end)
        {
            int bit = (int)(first & 63);
            int span = (int)Math.Min(64 - bit, end - first);
            ulong mask = (span == 64 ? ulong.MaxValue : ((1UL << span) - 1)) << bit;
            if (set)
            {
                Interlocked.Or(ref _words[first >> 6], mask);
            }
            else
            {
                Interlocked.And(ref _words[first >> 6], ~mask);
            }

            first += span;
        }
    }

    private void Check(long page)
    {
        if ((ulong)page >= (ulong)Length)
        {
            throw new ArgumentOutOfRangeException(nameof(page), $"page {page} outside [0, {Length})");
        }
    }
}
