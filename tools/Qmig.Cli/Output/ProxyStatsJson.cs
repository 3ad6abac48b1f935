using Qmig.Postcopy.Proxy;

namespace Qmig.Cli.Output;

/// <summary>What <c>proxy --stats</c> writes, in its order; <see cref="CliJson"/> writes it.</summary>
internal sealed record ProxyStatsDocument(
    string Outcome,
    string? Failure,
    double Seconds,
    string PostcopyState,
    bool StreamComplete,
    ProxyRounds Rounds,
    ProxyPages Pages,
    IReadOnlyDictionary<string, long> Commands,
    ProxyRequests Requests,
    ProxyLatency RequestLatencyUs,
    int Resumes,
    IReadOnlyList<ProxyConnectionEntry> Connections,
    IReadOnlyList<string> DecodeErrors)
{
    public static ProxyStatsDocument Of(ProxyOutcome outcome, string? failure, ProxyFigures f) => new(
        outcome.ToString().ToLowerInvariant(),
        failure,
        Math.Round(f.Seconds, 6),
        f.PostcopyState,
        f.Completed,
        new ProxyRounds(f.Rounds, f.RoundsEnded),
        new ProxyPages(f.NormalPages, f.ZeroPages, f.XbzrlePages, f.CompressedPages, f.PreemptPages, f.PostcopyPages),
        f.Commands,
        new ProxyRequests(f.PageRequests, f.AnsweredRequests, f.AnsweredOnPreempt, f.PendingRequests),
        new ProxyLatency(f.AnsweredRequests, Math.Round(f.LatencyP50 ?? 0, 1), Math.Round(f.LatencyP99 ?? 0, 1), Math.Round(f.LatencyMax ?? 0, 1)),
        f.Resumes,
        [.. f.Connections.Select(c => new ProxyConnectionEntry(
            c.Channel.ToString().ToLowerInvariant(),
            c.Generation,
            ProxyRecorder.FileName(c.Channel, forward: true, c.Generation),
            c.ForwardBytes,
            ProxyRecorder.FileName(c.Channel, forward: false, c.Generation),
            c.ReturnBytes))],
        f.DecodeErrors);
}

internal sealed record ProxyRounds(int Begun, int Ended);

internal sealed record ProxyPages(long Normal, long Zero, long Xbzrle, long Compressed, long Preempt, long Postcopy);

internal sealed record ProxyRequests(long Count, long Answered, long AnsweredOnPreempt, long Pending);

/// <summary>Request-to-page latency in microseconds; 0 when no request was answered.</summary>
internal sealed record ProxyLatency(long Count, double P50, double P99, double Max);

/// <summary>One connection through the proxy and the files its two directions were recorded to.</summary>
internal sealed record ProxyConnectionEntry(string Channel, int Generation, string ForwardFile, long ForwardBytes, string ReturnFile, long ReturnBytes);
