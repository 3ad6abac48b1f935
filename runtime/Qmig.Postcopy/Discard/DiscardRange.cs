namespace Qmig.Postcopy.Discard;

/// <summary>A run of target pages inside one RAM block.</summary>
internal readonly record struct DiscardRange(long StartPage, long PageCount)
{
    /// <summary>The first page after the run.</summary>
    public long EndPage => StartPage + PageCount;
}
