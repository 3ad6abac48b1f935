namespace Qmig.Postcopy.Source;

/// <summary>How a <see cref="PostcopySource"/> migrates.</summary>
public sealed record PostcopySourceOptions
{
    /// <summary>
    /// How long to send pages before the switch to postcopy. Zero (the default) switches at once: the
    /// destination's guest runs as soon as its device state is loaded and every page is pulled or pushed later.
    /// </summary>
    public TimeSpan PrecopyDuration { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// At most this many passes over the dirty pages before the switch, for a guest that keeps running
    /// (<see cref="IMigrationGuest.DirtyPages"/>); a guest that never changes needs one pass at most.
    /// </summary>
    public int MaxPrecopyRounds { get; init; } = 8;

    /// <summary>Bytes per second for background pages on the main channel, 0 for no limit. Requested pages are never held back.</summary>
    public long MaxBandwidth { get; init; }

    /// <summary>Opens a second connection for requested pages (postcopy-preempt); the destination must have postcopy-preempt on too.</summary>
    public bool Preempt { get; init; }

    /// <summary>When the preempt connection is opened; see <see cref="PreemptConnectOrder"/>.</summary>
    public PreemptConnectOrder PreemptOrder { get; init; } = PreemptConnectOrder.Auto;

    /// <summary>
    /// Sends SWITCHOVER_START when the guest stops. Only for a QEMU 10.0+ destination whose
    /// <c>send-switchover-start</c> is on (off for machine types up to 9.2); older destinations reject it.
    /// </summary>
    public bool SendSwitchoverStart { get; init; }

    /// <summary>Whether sections end with a footer: the destination checks them when its send-section-footer is on, the default of every current machine type.</summary>
    public bool SectionFooters { get; init; } = true;

    /// <summary>
    /// How long one write (at most a few hundred KiB) may wait for the destination to take it before the
    /// migration fails, naming the status and the offset on that connection; <see cref="Timeout.InfiniteTimeSpan"/>
    /// waits for ever. A QEMU destination reads its main connection without pause from the header to the end
    /// (its load thread, then its postcopy listen thread), so a write that makes no progress for this long
    /// means it hangs, or that its host went away without closing the connection, which TCP alone notices
    /// only after many minutes of retransmissions. The default of 30 s is far above any pause of a live
    /// destination, even a loaded one, and still ends a hung migration in well under a minute.
    /// </summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// For tests only, never for a real migration: leaves out the discards of pages sent and written since
    /// (the pages never sent are still discarded). The destination then keeps stale copies of those pages,
    /// so a test can show that without the discard rule the destination does not end with the guest's RAM.
    /// </summary>
    internal bool SuppressStaleDiscardsForTesting { get; init; }

    /// <summary>How long to wait for the destination's SHUT after the last byte was sent.</summary>
    public TimeSpan ShutTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The host page size the destination runs on: a block whose page size differs gets its page size in the block list.</summary>
    public int HostPageSize { get; init; } = Environment.SystemPageSize;
}

/// <summary>When the preempt connection opens, which the two QEMU generations want differently.</summary>
public enum PreemptConnectOrder
{
    /// <summary>
    /// On a plain connection (a <see cref="System.Net.Sockets.NetworkStream"/>), right after the main
    /// connection, which both generations take: a 7.2 destination waits for the second connection before
    /// it reads, and a 10.x destination takes connections in the order they came. On any other stream
    /// (TLS), right after the main stream's first PING is answered, or after a second without an answer:
    /// a 10.x destination answers first, a 7.2 destination does not before the second connection.
    /// </summary>
    Auto,

    /// <summary>Before the first byte on the main connection (QEMU 7.2, which waits for both connections).</summary>
    WithMainConnection,

    /// <summary>After the first PONG, so the destination has accepted the main connection first (QEMU 8.0 and later).</summary>
    AfterFirstPong,
}
