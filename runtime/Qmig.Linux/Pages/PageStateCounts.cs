namespace Qmig.Linux.Pages;

/// <summary>How many pages are in each state (a moving snapshot while other threads apply transitions; exact when they are quiet).</summary>
public readonly record struct PageStateCounts(long Missing, long Requested, long Received)
{
    public long Total => Missing + Requested + Received;
}
