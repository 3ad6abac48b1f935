namespace Qmig.Postcopy.Discard;

/// <summary>A run of target pages inside one RAM block.</summary>
public readonly record struct DiscardRange(long StartPage, long PageCount)
{
    public long EndPage => StartPage + PageCount;
}
