namespace Qmig.Linux.Pages;

/// <summary>
/// Outcome of <see cref="PageStateArray.DiscardRange"/>: received pages went back to missing; the others
/// were left alone and are counted by the state they were in. A requested page inside a discard range
/// means a fault was taken before the discard phase ended, which the caller will want to log.
/// </summary>
public readonly record struct PageRangeDiscardResult(long Discarded, long LeftMissing, long LeftRequested, long FirstLeftPage)
{
    /// <summary>Pages the discard did not move (not received at the time).</summary>
    public long Left => LeftMissing + LeftRequested;
}
