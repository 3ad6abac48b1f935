namespace Qmig.Postcopy.Proxy;

/// <summary>One connection through the proxy: what passed each way, and how far it decoded.</summary>
/// <param name="Channel">What the connection carries.</param>
/// <param name="Generation">0 for the first connection of its channel, 1 for the next (after a postcopy pause), and so on.</param>
/// <param name="ForwardBytes">Bytes the source sent and the proxy wrote to the destination.</param>
/// <param name="ReturnBytes">Bytes the destination sent back and the proxy wrote to the source.</param>
/// <param name="Open">The connection is still forwarding.</param>
public sealed record ProxyConnectionFigures(ProxyChannel Channel, int Generation, long ForwardBytes, long ReturnBytes, bool Open);

/// <summary>
/// What a <see cref="MigrationProxy"/> has seen so far, decoded from the bytes as they passed:
/// a consistent copy taken at one moment.
/// </summary>
public sealed record ProxyFigures
{
    /// <summary>Seconds since the proxy started.</summary>
    public required double Seconds { get; init; }

    /// <summary>The destination's postcopy state as the main stream's commands move it (QEMU's name, e.g. POSTCOPY_INCOMING_RUNNING).</summary>
    public required string PostcopyState { get; init; }

    /// <summary>Precopy rounds begun (RAM SECTION_PART bodies).</summary>
    public required int Rounds { get; init; }

    /// <summary>Precopy rounds ended by their RAM EOS.</summary>
    public required int RoundsEnded { get; init; }

    /// <summary>The main stream has ended as a complete migration stream.</summary>
    public required bool Completed { get; init; }

    /// <summary>Full pages (RAM_SAVE_FLAG_PAGE) on every channel; QEMU's <c>ram.normal</c> counts the same.</summary>
    public required long NormalPages { get; init; }

    /// <summary>Zero pages (RAM_SAVE_FLAG_ZERO) on every channel; QEMU's <c>ram.duplicate</c> counts the same.</summary>
    public required long ZeroPages { get; init; }

    /// <summary>XBZRLE-encoded pages.</summary>
    public required long XbzrlePages { get; init; }

    /// <summary>Compressed pages.</summary>
    public required long CompressedPages { get; init; }

    /// <summary>Pages (full or zero) that came on the postcopy-preempt channel.</summary>
    public required long PreemptPages { get; init; }

    /// <summary>Pages sent after POSTCOPY_LISTEN, on either channel.</summary>
    public required long PostcopyPages { get; init; }

    /// <summary>Main-stream commands by QEMU name (without MIG_CMD_).</summary>
    public required IReadOnlyDictionary<string, long> Commands { get; init; }

    /// <summary>REQ_PAGES and REQ_PAGES_ID messages on the return path; QEMU's source counts them as <c>postcopy-requests</c>.</summary>
    public required long PageRequests { get; init; }

    /// <summary>Requests whose first page has passed towards the destination since.</summary>
    public required long AnsweredRequests { get; init; }

    /// <summary>Of the answered requests, those answered on the preempt channel.</summary>
    public required long AnsweredOnPreempt { get; init; }

    /// <summary>Requests whose page has not passed (yet): a page already on its way when it was asked for is not sent again.</summary>
    public required long PendingRequests { get; init; }

    /// <summary>Request-to-page latency as seen in the middle, microseconds: median, 99th percentile and maximum (null before the first answered request).</summary>
    public required double? LatencyP50 { get; init; }

    /// <inheritdoc cref="LatencyP50"/>
    public required double? LatencyP99 { get; init; }

    /// <inheritdoc cref="LatencyP50"/>
    public required double? LatencyMax { get; init; }

    /// <summary>Times the source resumed a paused postcopy through the proxy.</summary>
    public required int Resumes { get; init; }

    /// <summary>Every connection so far, in the order they were accepted.</summary>
    public required IReadOnlyList<ProxyConnectionFigures> Connections { get; init; }

    /// <summary>Decode errors, each as <c>FILE:0xOFFSET: error QMIGnnnn: message</c> (FILE: the recorded file name of the channel).</summary>
    public required IReadOnlyList<string> DecodeErrors { get; init; }
}
