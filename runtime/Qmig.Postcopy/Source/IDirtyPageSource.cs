using Qmig.Postcopy.Bitmaps;

namespace Qmig.Postcopy.Source;

/// <summary>
/// Write tracking of a guest that keeps running during precopy: the source syncs it between rounds and,
/// at the switch to postcopy, stops the guest and takes the last writes.
/// </summary>
public interface IDirtyPageSource
{
    /// <summary>Starts tracking writes to every RAM block; called once, before the first page is read.</summary>
    void StartTracking();

    /// <summary>
    /// Sets in <paramref name="dirty"/> every target page of block <paramref name="blockIndex"/> written since
    /// tracking started or since the last sync of that block, and restarts tracking for those pages.
    /// </summary>
    void Sync(int blockIndex, DirtyBitmap dirty);

    /// <summary>Stops the guest's vCPUs for the switch to postcopy: after this returns, no page changes.</summary>
    void StopGuest();
}
