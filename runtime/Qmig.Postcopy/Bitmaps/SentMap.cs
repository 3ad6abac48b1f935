namespace Qmig.Postcopy.Bitmaps;

/// <summary>
/// The source's sent map: a set bit means the page has been sent to the destination at least once, so
/// the destination may hold a copy that a later write made stale. At the switch to postcopy,
/// <c>sent &amp; dirty</c> is exactly the set of such stale copies, which the destination must discard.
/// </summary>
internal sealed class SentMap : PageBitmap
{
    /// <summary>A map of <paramref name="length"/> pages, none sent yet.</summary>
    public SentMap(long length)
        : base(length)
    {
    }
}
