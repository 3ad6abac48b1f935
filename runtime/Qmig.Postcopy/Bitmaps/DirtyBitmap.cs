namespace Qmig.Postcopy.Bitmaps;

/// <summary>
/// The source's migration bitmap: a set bit means the page must be (re)sent. Starts all set (nothing
/// sent yet); the dirty log sets bits again as the guest writes; the sender clears a bit when it sends.
/// </summary>
public sealed class DirtyBitmap : PageBitmap
{
    public DirtyBitmap(long length, bool allDirty = true)
        : base(length)
    {
        if (allDirty)
        {
            SetAll();
        }
    }
}
