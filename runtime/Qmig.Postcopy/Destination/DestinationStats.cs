using Qmig.Wire.Machines;

namespace Qmig.Postcopy.Destination;

/// <summary>What one incoming migration did, for <c>qmig receive --stats</c>.</summary>
public sealed class DestinationStats
{
    /// <summary>Pages with content stored in precopy, one per page record, before the guest ran here.</summary>
    public long PrecopyPages { get; internal set; }

    /// <summary>Zero-page records stored in precopy: pages the source sent as a fill instead of their bytes.</summary>
    public long PrecopyZeroPages { get; internal set; }

    /// <summary>Postcopy pages placed as the source's background sender pushed them, before any vCPU faulted on them or asked ahead for them.</summary>
    public long PostcopyBackgroundPages { get; internal set; }

    /// <summary>Postcopy pages placed while a vCPU was waiting on them: the ones whose wait <see cref="FaultToPlacedMicroseconds"/> times.</summary>
    public long PostcopyRequestedPages { get; internal set; }

    /// <summary>Pages requested ahead of a fault (<see cref="DestinationOptions.RequestAhead"/>) that arrived before any vCPU touched them.</summary>
    public long PostcopyAheadPages { get; internal set; }

    /// <summary>Pages added to page requests by <see cref="DestinationOptions.RequestAhead"/>.</summary>
    public long PagesRequestedAhead { get; internal set; }

    /// <summary>Target pages that came on the postcopy-preempt channel (the phases above count host pages).</summary>
    public long PreemptChannelPages { get; internal set; }

    /// <summary>Postcopy pages that arrived when already placed: a request raced the background sender.</summary>
    public long PostcopyDuplicatePages { get; internal set; }

    /// <summary>Received pages that POSTCOPY_RAM_DISCARD sent back to missing because the source had dirtied them since; each is fetched again.</summary>
    public long Discarded { get; internal set; }

    /// <summary>Page-fault events read from userfaultfd, including faults on a page whose request was already out.</summary>
    public long Faults { get; internal set; }

    /// <summary>Page requests (REQ_PAGES and REQ_PAGES_ID) sent on the return path; one may ask for several pages (<see cref="DestinationOptions.RequestAhead"/>).</summary>
    public long PageRequests { get; internal set; }

    /// <summary>Those of <see cref="PageRequests"/> that named their RAM block (REQ_PAGES_ID): the first request, and each one for a different block than the last.</summary>
    public long PageRequestsWithId { get; internal set; }

    /// <summary>PONG replies sent on the return path to the source's PING commands.</summary>
    public long Pongs { get; internal set; }

    /// <summary>Times the connection broke in postcopy and the source resumed (or was waited for).</summary>
    public int Pauses { get; internal set; }

    /// <summary>Seconds from each postcopy break to the source's resume, summed over <see cref="Pauses"/>.</summary>
    public double SecondsPaused { get; internal set; }

    /// <summary>Bytes read from the source on the main stream and the postcopy-preempt channel, over every connection.</summary>
    public long BytesReceived { get; internal set; }

    /// <summary>Bytes written to the source on the return path, over every connection.</summary>
    public long BytesSent { get; internal set; }

    /// <summary>
    /// Microseconds from the first fault on a page (when its request went out, or when a vCPU hit
    /// a page already requested) to the placement that woke it.
    /// </summary>
    public List<double> FaultToPlacedMicroseconds { get; } = [];

    /// <summary>
    /// Microseconds each vCPU read took when it took longer than 10 µs, as the vCPUs started at
    /// POSTCOPY_RUN report them (qmig's stand-in vCPUs do): the stall as the
    /// vCPU sees it, from its access to its resumption (fault delivery, request, reply, placement,
    /// wake), comparable to QEMU's postcopy-vcpu-blocktime; it also holds the first touches of
    /// pages that arrived in precopy (the kernel maps them then) and reads that lost their CPU.
    /// </summary>
    public List<double> VcpuStallMicroseconds { get; } = [];

    /// <summary>
    /// For each requested page, in placement order: seconds from <see cref="Started"/> to its first
    /// fault (when its request went out) and to its placement; a timeline of requests and placements.
    /// </summary>
    public List<(double FaultedSeconds, double PlacedSeconds)> RequestedPageTimes { get; } = [];

    /// <summary>The <see cref="System.Diagnostics.Stopwatch"/> timestamp the times above count from: when the destination was created.</summary>
    public long Started { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Seconds spent in each postcopy state, by QEMU's name.</summary>
    public Dictionary<string, double> SecondsInState { get; } = [];

    /// <summary>The <paramref name="fraction"/> percentile (0.99 for p99) of <see cref="FaultToPlacedMicroseconds"/>, or 0 when no vCPU waited.</summary>
    public double Percentile(double fraction) => Percentile(FaultToPlacedMicroseconds, fraction);

    /// <summary>
    /// The nearest-rank <paramref name="fraction"/> percentile of <paramref name="samples"/> (the smallest sample
    /// that at least that fraction of them do not exceed), or 0 for no samples; the definition behind the
    /// p50 and p99 that <c>receive --stats</c> writes.
    /// </summary>
    public static double Percentile(IReadOnlyCollection<double> samples, double fraction)
    {
        if (samples.Count == 0)
        {
            return 0;
        }

        var sorted = samples.Order().ToArray();
        var index = (int)Math.Ceiling(fraction * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    internal void AddStateTime(PostcopyMachine.State state, double seconds)
    {
        var name = PostcopyMachine.GetQemuName(state);
        SecondsInState[name] = SecondsInState.GetValueOrDefault(name) + seconds;
    }
}
