namespace Qmig.Postcopy.Discard;

/// <summary>What a discard pass emitted: commands, ranges and target pages, over all blocks.</summary>
public readonly record struct DiscardSummary(long Commands, long Ranges, long Pages)
{
    public static DiscardSummary operator +(DiscardSummary left, DiscardSummary right)
        => new(left.Commands + right.Commands, left.Ranges + right.Ranges, left.Pages + right.Pages);
}
