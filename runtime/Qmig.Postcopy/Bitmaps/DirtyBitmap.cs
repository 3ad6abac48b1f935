namespace Qmig.Postcopy.Bitmaps;

/// <summary>
/// The source's migration bitmap: a set bit means the page must be (re)sent. Starts all set (nothing
/// sent yet); the dirty log sets bits again as the guest writes; the sender clears a bit when it sends.
/// </summary>
public sealed class DirtyBitmap : PageBitmap
{
    /// <summary>
    /// A bitmap of <paramref name="length"/> pages, all dirty by default so that the first pass sends
    /// every page; <paramref name="allDirty"/> false starts it clear, for a dirty log that only records
    /// writes from now on.
    /// </summary>
    public DirtyBitmap(long length, bool allDirty = true)
        : base(length)
    {
        if (allDirty)
        {
            SetAll();
        }
    }
}
