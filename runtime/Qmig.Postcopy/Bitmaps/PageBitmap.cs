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

    public bool Test(long page)
    {
        Check(page);
        return (Volatile.Read(ref _words[page >> 6]) & (1UL << (int)(page & 63))) != 0;
    }

    public void Set(long page)
    {
        Check(page);
        Interlocked.Or(ref _words[page >> 6], 1UL << (int)(page & 63));
    }

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

    public void SetRange(long first, long count) => ApplyRange(first, count, set: true);

    public void ClearRange(long first, long count) => ApplyRange(first, count, set: false);

    public void SetAll() => SetRange(0, Length);

    public void ClearAll() => Array.Clear(_words);

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
