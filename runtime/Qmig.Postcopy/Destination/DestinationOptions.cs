namespace Qmig.Postcopy.Destination;

/// <summary>How a <see cref="PostcopyDestination"/> receives.</summary>
public sealed class DestinationOptions
{
    /// <summary>
    /// Called on the receiving thread at POSTCOPY_RUN, where a VMM loads the device state and starts
    /// its vCPUs; the next record is read when it returns. It may return what is to be stopped when
    /// the migration ends (the stand-in guest of a tool, say), or null for a guest that runs on: the
    /// destination disposes it before its SHUT when every page is here, once faulting has stopped
    /// (which wakes every thread blocked on a page) when the migration fails or is cancelled, and at
    /// the latest in <see cref="PostcopyDestination.Dispose"/>. An exception it throws fails the
    /// migration. Null: nothing runs the guest, and every page comes from the source's background sender.
    /// </summary>
    public Func<PostcopyRun, IDisposable?>? OnPostcopyRun { get; init; }

    /// <summary>Gets a copy of every return-path byte sent, for checking afterwards; null for none.</summary>
    public Stream? ReturnPathLog { get; init; }

    /// <summary>
    /// How many pages after a faulting page to request with it (0: only the faulting page, as
    /// QEMU's destination does). The following pages that are still missing, up to this many and
    /// up to the first one that is not, join the same REQ_PAGES. A vCPU that sweeps memory then
    /// finds them placed instead of faulting on each: QEMU's source sends queued pages ahead of
    /// its background pages and, in 7.2 and 10.0, even past max-postcopy-bandwidth, so a whole
    /// run arrives in one rate-limit window instead of one page per window. The price: pages
    /// the guest may never touch go ahead of the background sender's.
    /// </summary>
    public int RequestAhead { get; init; }

    /// <summary>
    /// When the connection breaks during postcopy, wait for the source to resume (QEMU's postcopy
    /// recovery: <c>migrate</c> with <c>resume=true</c> after <c>postcopy-paused</c>) instead of
    /// failing: <see cref="PostcopyDestination.ReceiveAsync(Stream, CancellationToken)"/> returns <see cref="ReceiveOutcome.Paused"/>
    /// and is called again with the resumed connection. The guest threads stay blocked meanwhile.
    /// </summary>
    public bool Recover { get; init; }

    /// <summary>
    /// The most guest RAM a source may announce, in bytes: a block list whose total is larger fails
    /// the migration before any block is mapped. The default is the machine's physical memory (or
    /// the memory limit of the cgroup this process runs in), since guest RAM past it could not be
    /// held anyway.
    /// </summary>
    public long MaxGuestRam { get; init; } = DefaultMaxGuestRam;

    /// <summary>The machine's physical memory, or this process's cgroup memory limit if lower.</summary>
    public static long DefaultMaxGuestRam => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// How long the source may send nothing before postcopy starts (LISTEN) until the migration is
    /// given up: before LISTEN the source still holds the whole guest, so a stalled connection only
    /// costs time. After LISTEN nothing times out, as in QEMU: the guest lives on both sides.
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits forever.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
