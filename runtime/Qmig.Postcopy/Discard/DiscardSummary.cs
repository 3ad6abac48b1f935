namespace Qmig.Postcopy.Discard;

/// <summary>What a discard pass emitted: commands, ranges and target pages, over all blocks.</summary>
public readonly record struct DiscardSummary(long Commands, long Ranges, long Pages)
{
    /// <summary>Both passes' counts added up, as the per-block summaries add up to one for the whole guest.</summary>
    public static DiscardSummary operator +(DiscardSummary left, DiscardSummary right)
        => new(left.Commands + right.Commands, left.Ranges + right.Ranges, left.Pages + right.Pages);
}
