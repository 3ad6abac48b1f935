using System.Net;

namespace Qmig.Postcopy.Proxy;

/// <summary>How a <see cref="MigrationProxy"/> forwards, records and judges a migration.</summary>
public sealed record ProxyOptions
{
    /// <summary>The destination's listening address (its <c>-incoming</c> or <c>migrate-recover</c> address): every accepted connection gets its own connection there.</summary>
    public required EndPoint Destination { get; init; }

    /// <summary>
    /// Where a resumed source's connections go after a postcopy pause (the destination's
    /// <c>migrate-recover</c> address); null: <see cref="Destination"/>.
    /// </summary>
    public EndPoint? RecoverDestination { get; init; }

    /// <summary>A directory to write every channel and direction into, with per-chunk timestamps (see <see cref="ProxyRecorder"/>); null: record nothing.</summary>
    public string? RecordDirectory { get; init; }

    /// <summary>A stream that fails to decode ends the migration (both sides are closed) instead of being forwarded on undecoded.</summary>
    public bool Strict { get; init; }

    /// <summary>Where connection events, decode errors and the end of the migration are written, one line each.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>The largest read from one socket, which is then written whole to the other before the next read.</summary>
    public int ChunkSize { get; init; } = 1 << 20;

    /// <summary>
    /// How long the other direction of a connection may go on after one side closed and the
    /// migration is not complete (a close that was a reaction to the first); then it is closed.
    /// </summary>
    public TimeSpan CloseGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the rest of the connections may stay open after the main stream completed.</summary>
    public TimeSpan CompletionGrace { get; init; } = TimeSpan.FromSeconds(30);
}
