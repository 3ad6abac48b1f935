using System.Diagnostics;
using Qmig.Wire.Machines;

namespace Qmig.Postcopy.Source;

/// <summary>
/// What a <see cref="PostcopySource"/> did, readable while it runs (for progress) and complete once it returns:
/// target pages by phase, page requests, request-to-sent latency and the time spent in each migration status.
/// Counters are updated by the sender threads and read without locks, so a reading during a run may be a page behind.
/// </summary>
public sealed class PostcopySourceStats
{
    private readonly Lock _lock = new();
    private readonly List<long> _latencyTicks = [];
    private readonly Dictionary<MigrationStatusSourceMachine.State, long> _ticksInStatus = [];
    private long _precopyPages;
    private long _backgroundPages;
    private long _requestedPages;
    private long _zeroPages;
    private long _pagesSentInPlace;
    private long _requests;
    private long _requestsForSentPages;
    private long _mainBytes;
    private long _preemptBytes;
    private MigrationStatusSourceMachine.State _status = MigrationStatusSourceMachine.Initial;
    private long _statusSince = Stopwatch.GetTimestamp();

    /// <summary>Target pages of all RAM blocks.</summary>
    public long TotalPages { get; internal set; }

    /// <summary>Target pages sent before the switch to postcopy.</summary>
    public long PrecopyPages => Volatile.Read(ref _precopyPages);

    /// <summary>Target pages pushed in the background after the switch.</summary>
    public long BackgroundPages => Volatile.Read(ref _backgroundPages);

    /// <summary>Target pages sent because the destination asked for them.</summary>
    public long RequestedPages => Volatile.Read(ref _requestedPages);

    /// <summary>Target pages that went as ZERO records, in any phase.</summary>
    public long ZeroPages => Volatile.Read(ref _zeroPages);

    /// <summary>
    /// Target pages with data that went to a plain socket straight from the guest's own memory
    /// (<see cref="IMigrationGuest.PagesStayInPlace"/>), so that this process made no copy of them.
    /// </summary>
    public long PagesSentInPlace => Volatile.Read(ref _pagesSentInPlace);

    /// <summary>All target pages on the wire.</summary>
    public long PagesSent => PrecopyPages + BackgroundPages + RequestedPages;

    /// <summary>REQ_PAGES and REQ_PAGES_ID messages received.</summary>
    public long Requests => Volatile.Read(ref _requests);

    /// <summary>Requests for pages already on their way (the destination asks again while one is in flight); nothing is resent.</summary>
    public long RequestsForSentPages => Volatile.Read(ref _requestsForSentPages);

    /// <summary>Bytes written to the main connection.</summary>
    public long MainChannelBytes => Volatile.Read(ref _mainBytes);

    /// <summary>Bytes written to the preempt connection.</summary>
    public long PreemptChannelBytes => Volatile.Read(ref _preemptBytes);

    /// <summary>POSTCOPY_RAM_DISCARD commands, ranges and target pages sent before LISTEN.</summary>
    public Discard.DiscardSummary Discards { get; internal set; }

    /// <summary>Bytes of the PACKAGED blob (LISTEN, device sections, PING, RUN).</summary>
    public long PackageBytes { get; internal set; }

    /// <summary>From the start until the destination answered the PING inside the package (its devices are loaded and RUN follows), or null.</summary>
    public TimeSpan? PackageLoadedAfter { get; internal set; }

    /// <summary>The destination's SHUT status, or null before it arrived.</summary>
    public uint? ShutStatus { get; internal set; }

    /// <summary>The source's migration status now.</summary>
    public MigrationStatusSourceMachine.State Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>Request-to-sent latency quantile (the request read from the return path until its last page was handed to the socket), or null with no request served.</summary>
    public TimeSpan? RequestLatency(double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1.0);
        long[] sorted;
        lock (_lock)
        {
            if (_latencyTicks.Count == 0)
            {
                return null;
            }

            sorted = [.. _latencyTicks];
        }

        Array.Sort(sorted);
        var index = (int)Math.Min(sorted.Length - 1, Math.Ceiling(quantile * sorted.Length) - 1);
        return Stopwatch.GetElapsedTime(0, sorted[Math.Max(0, index)]);
    }

    /// <summary>Time spent in each migration status so far, by QEMU's status name.</summary>
    public IReadOnlyDictionary<string, TimeSpan> TimeInStatus
    {
        get
        {
            lock (_lock)
            {
                var result = _ticksInStatus.ToDictionary(p => MigrationStatusSourceMachine.GetQemuName(p.Key), p => Stopwatch.GetElapsedTime(0, p.Value));
                var current = MigrationStatusSourceMachine.GetQemuName(_status);
                var now = Stopwatch.GetElapsedTime(_statusSince);
                result[current] = result.TryGetValue(current, out var before) ? before + now : now;
                return result;
            }
        }
    }

    internal void EnterStatus(MigrationStatusSourceMachine.State status)
    {
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            _ticksInStatus[_status] = _ticksInStatus.GetValueOrDefault(_status) + (now - _statusSince);
            _status = status;
            _statusSince = now;
        }
    }

    internal void CountPage(PagePhase phase, bool zero)
    {
        CountPages(phase, 1);
        if (zero)
        {
            Interlocked.Increment(ref _zeroPages);
        }
    }

    /// <summary>Counts <paramref name="count"/> pages with data (not zero) sent in <paramref name="phase"/>.</summary>
    internal void CountPages(PagePhase phase, int count)
    {
        switch (phase)
        {
            case PagePhase.Precopy:
                Interlocked.Add(ref _precopyPages, count);
                break;
            case PagePhase.Background:
                Interlocked.Add(ref _backgroundPages, count);
                break;
            default:
                Interlocked.Add(ref _requestedPages, count);
                break;
        }
    }

    internal void CountPageSentInPlace() => Interlocked.Increment(ref _pagesSentInPlace);

    internal void CountRequest(bool alreadySent)
    {
        Interlocked.Increment(ref _requests);
        if (alreadySent)
        {
            Interlocked.Increment(ref _requestsForSentPages);
        }
    }

    internal void CountBytes(bool preempt, long bytes)
    {
        if (preempt)
        {
            Interlocked.Add(ref _preemptBytes, bytes);
        }
        else
        {
            Interlocked.Add(ref _mainBytes, bytes);
        }
    }

    internal void AddLatency(long ticks)
    {
        lock (_lock)
        {
            _latencyTicks.Add(ticks);
        }
    }
}

/// <summary>Why a page went on the wire.</summary>
internal enum PagePhase
{
    Precopy,
    Background,
    Requested,
}
