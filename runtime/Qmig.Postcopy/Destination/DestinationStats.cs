using System.Text.Json;
using Qmig.Wire.Machines;

namespace Qmig.Postcopy.Destination;

/// <summary>What one incoming migration did, for <c>qmig receive --stats</c>.</summary>
public sealed class DestinationStats
{
    public long PrecopyPages { get; internal set; }

    public long PrecopyZeroPages { get; internal set; }

    public long PostcopyBackgroundPages { get; internal set; }

    public long PostcopyRequestedPages { get; internal set; }

    /// <summary>Postcopy pages that arrived when already placed: a request raced the background sender.</summary>
    public long PostcopyDuplicatePages { get; internal set; }

    public long Discarded { get; internal set; }

    public long Faults { get; internal set; }

    public long PageRequests { get; internal set; }

    public long PageRequestsWithId { get; internal set; }

    public long Pongs { get; internal set; }

    public long BytesReceived { get; internal set; }

    public long BytesSent { get; internal set; }

    /// <summary>Microseconds from a fault's page request to the placement that woke it.</summary>
    public List<double> FaultToPlacedMicroseconds { get; } = [];

    /// <summary>Seconds spent in each postcopy state, by QEMU's name.</summary>
    public Dictionary<string, double> SecondsInState { get; } = [];

    public double Percentile(double fraction)
    {
        if (FaultToPlacedMicroseconds.Count == 0)
        {
            return 0;
        }

        var sorted = FaultToPlacedMicroseconds.Order().ToArray();
        var index = (int)Math.Ceiling(fraction * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    internal void AddStateTime(PostcopyMachine.State state, double seconds)
    {
        var name = PostcopyMachine.GetQemuName(state);
        SecondsInState[name] = SecondsInState.GetValueOrDefault(name) + seconds;
    }

    public string ToJson() => JsonSerializer.Serialize(
        new
        {
            pages = new { precopy = PrecopyPages, precopy_zero = PrecopyZeroPages, postcopy_background = PostcopyBackgroundPages, postcopy_requested = PostcopyRequestedPages, postcopy_duplicate = PostcopyDuplicatePages, discarded = Discarded },
            faults = Faults,
            page_requests = PageRequests,
            page_requests_with_id = PageRequestsWithId,
            pongs = Pongs,
            fault_to_placed_us = new
            {
                count = FaultToPlacedMicroseconds.Count,
                p50 = Percentile(0.50),
                p99 = Percentile(0.99),
                max = FaultToPlacedMicroseconds.Count == 0 ? 0 : FaultToPlacedMicroseconds.Max(),
                // The time stand-in vCPUs spent waiting on requested pages, comparable to QEMU's
                // postcopy-vcpu-blocktime summed over vCPUs.
                total = FaultToPlacedMicroseconds.Sum(),
            },
            bytes = new { received = BytesReceived, sent = BytesSent },
            seconds_in_state = SecondsInState,
        },
        new JsonSerializerOptions { WriteIndented = true });
}
