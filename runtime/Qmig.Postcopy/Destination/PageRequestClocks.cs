using System.Collections.Concurrent;
using System.Diagnostics;
using Qmig.Linux.Machines;
using Qmig.Linux.Memory;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// When each requested page was first faulted on, and which pages were requested only ahead of a
/// fault: the fault thread starts the clocks, placement stops them, and a placed page is counted
/// as requested, requested ahead, or background accordingly.
/// </summary>
internal sealed class PageRequestClocks(DestinationStats stats)
{
    private readonly ConcurrentDictionary<long, long> _faultedAt = new();

    /// <summary>Pages requested ahead of any fault, to count them apart from the background sender's when they arrive.</summary>
    private readonly ConcurrentDictionary<long, byte> _requestedAhead = new();

    /// <summary>A requested page is known by its address in this process: unique across blocks, no lookup.</summary>
    public static long Key(RamBlockMemory memory, ulong offset) => (long)(memory.BaseAddress + offset);

    public void MarkRequestedAhead(RamBlockMemory block, ulong offset) => _requestedAhead[Key(block, offset)] = 0;

    /// <summary>
    /// Starts timing a vCPU's wait for a page: from the first fault on it, whether that fault sent
    /// the request or found the page already on its way (requested ahead, or by another vCPU).
    /// The page may have been placed between the fault and now (a background run flushed by the
    /// reader thread): that placement found no clock to stop, so the clock is taken away again
    /// rather than left running forever.
    /// </summary>
    public void StartFaultClock(RamBlockMemory block, ulong offset)
    {
        var key = Key(block, offset);
        if (_faultedAt.TryAdd(key, Stopwatch.GetTimestamp())
            && block.States.Get(block.PageIndex(offset)) == PageMachine.State.Received)
        {
            _faultedAt.TryRemove(key, out _);
        }
    }

    /// <summary>Counts a placed postcopy page by why it came; only under the placer's lock, which keeps the figures consistent.</summary>
    public void CountPlaced(long key)
    {
        var ahead = _requestedAhead.TryRemove(key, out _);
        if (_faultedAt.TryRemove(key, out var faultedAt))
        {
            var placedAt = Stopwatch.GetTimestamp();
            stats.FaultToPlacedMicroseconds.Add(Stopwatch.GetElapsedTime(faultedAt, placedAt).TotalMicroseconds);
            stats.RequestedPageTimes.Add((Stopwatch.GetElapsedTime(stats.Started, faultedAt).TotalSeconds, Stopwatch.GetElapsedTime(stats.Started, placedAt).TotalSeconds));
            stats.PostcopyRequestedPages++;
            return;
        }

        if (ahead)
        {
            stats.PostcopyAheadPages++;
            return;
        }

        stats.PostcopyBackgroundPages++;
    }
}
