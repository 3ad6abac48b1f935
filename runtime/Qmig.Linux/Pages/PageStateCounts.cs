namespace Qmig.Linux.Pages;

/// <summary>How many pages are in each state (a moving snapshot while other threads apply transitions; exact when they are quiet).</summary>
public readonly record struct PageStateCounts(long Missing, long Requested, long Received)
{
    /// <summary>All pages counted, which equals the block's page count when nothing moved during the count.</summary>
    public long Total => Missing + Requested + Received;
}
