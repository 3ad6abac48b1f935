using System.Numerics;

namespace Qmig.Postcopy.Discard;

/// <summary>
/// The source's discard step at the switch to postcopy: pages sent earlier and dirtied since
/// (<c>sent &amp; dirty</c>) hold stale copies on the destination, which must drop them so that an access
/// faults and fetches the current page. They go out as POSTCOPY_RAM_DISCARD commands of at most
/// <see cref="MaxDiscardsPerCommand"/> ranges, each command naming one block, each range inside it, in
/// bytes (target pages times the target page size), as QEMU's postcopy_discard_send_* do.
/// </summary>
internal static class PostcopyDiscard
{
    /// <summary>QEMU's MAX_DISCARDS_PER_COMMAND: keeps a command around 200 bytes; the destination does not enforce it.</summary>
    public const int MaxDiscardsPerCommand = 12;

    /// <summary>Emits the discard commands for every block, in order; blocks with nothing to discard emit nothing.</summary>
    public static DiscardSummary Send(IEnumerable<SourceRamBlock> blocks, ulong targetPageSize, IDiscardCommandSink sink)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        DiscardSummary total = default;
        foreach (SourceRamBlock block in blocks)
        {
            total += Send(block, targetPageSize, sink);
        }

        return total;
    }

    /// <summary>Emits the discard commands for one block.</summary>
    /// <remarks>
    /// When a host page spans several target pages, the destination can only drop whole host pages, so
    /// a host page with any stale target page is discarded whole, and all its target pages are marked
    /// dirty here so that the whole host page is sent again (QEMU's postcopy_chunk_hostpages does the same).
    /// </remarks>
    public static DiscardSummary Send(SourceRamBlock block, ulong targetPageSize, IDiscardCommandSink sink)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(sink);
        if (targetPageSize == 0 || !BitOperations.IsPow2(targetPageSize))
        {
            throw new ArgumentException("the target page size is a power of two", nameof(targetPageSize));
        }

        Span<(ulong StartBytes, ulong LengthBytes)> batch = stackalloc (ulong, ulong)[MaxDiscardsPerCommand];
        int pending = 0;
        long commands = 0, ranges = 0, pages = 0;
        foreach (DiscardRange range in ComputeRanges(block))
        {
            if (block.HostPageTargetPages > 1)
            {
                block.Dirty.SetRange(range.StartPage, range.PageCount);
            }

            batch[pending++] = ((ulong)range.StartPage * targetPageSize, (ulong)range.PageCount * targetPageSize);
            ranges++;
            pages += range.PageCount;
            if (pending == MaxDiscardsPerCommand)
            {
                sink.WriteDiscard(block.Name, batch);
                commands++;
                pending = 0;
            }
        }

        if (pending > 0)
        {
            sink.WriteDiscard(block.Name, batch[..pending]);
            commands++;
        }

        return new DiscardSummary(commands, ranges, pages);
    }

    /// <summary>
    /// The maximal runs of <c>sent &amp; dirty</c> in a block, in ascending order, widened to whole host
    /// pages (and merged where widening makes them touch). Neither map is modified.
    /// </summary>
    public static IEnumerable<DiscardRange> ComputeRanges(SourceRamBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        long hostPage = block.HostPageTargetPages;
        long cursor = 0;
        long pendingStart = -1, pendingEnd = -1;
        while (true)
        {
            long start = NextStale(block, cursor, stale: true);
            if (start < 0)
            {
                break;
            }

            long end = NextStale(block, start, stale: false);
            if (end < 0)
            {
                end = block.PageCount;
            }

            // Widen to host pages; the block is a whole number of host pages, so this stays inside it.
            start -= start % hostPage;
            end = (end + hostPage - 1) / hostPage * hostPage;
            if (pendingStart >= 0 && start <= pendingEnd)
            {
                pendingEnd = Math.Max(pendingEnd, end);
            }
            else
            {
                if (pendingStart >= 0)
                {
                    yield return new DiscardRange(pendingStart, pendingEnd - pendingStart);
                }

                pendingStart = start;
                pendingEnd = end;
            }

            cursor = end;
        }

        if (pendingStart >= 0)
        {
            yield return new DiscardRange(pendingStart, pendingEnd - pendingStart);
        }
    }

    /// <summary>The first page at or after <paramref name="from"/> whose sent&amp;dirty bit equals <paramref name="stale"/>, or -1.</summary>
    private static long NextStale(SourceRamBlock block, long from, bool stale)
    {
        if (from >= block.PageCount)
        {
            return -1;
        }

        ReadOnlySpan<ulong> sent = block.Sent.Words;
        ReadOnlySpan<ulong> dirty = block.Dirty.Words;
        long wordIndex = from >> 6;
        ulong mask = ulong.MaxValue << (int)(from & 63);
        while (wordIndex < sent.Length)
        {
            ulong bits = sent[(int)wordIndex] & dirty[(int)wordIndex];
            if (!stale)
            {
                bits = ~bits;
            }

            bits &= mask;
            if (bits != 0)
            {
                long page = (wordIndex << 6) + BitOperations.TrailingZeroCount(bits);
                return page < block.PageCount ? page : -1;
            }

            mask = ulong.MaxValue;
            wordIndex++;
        }

        return -1;
    }
}
