using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qmig.Postcopy.Tls;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The listening side of a destination, as QEMU's <c>-incoming tcp:</c> / <c>unix:</c>: it accepts
/// the source's main connection, then, for postcopy-preempt or a resumed migration, the source's
/// further connections. Every connection goes through the TLS handshake first when credentials are
/// given. The main connection is then its <see cref="SslStream"/>; every further one is told apart
/// by its first bytes (<see cref="IncomingConnection"/>), which takes a socket to peek at, so under
/// TLS it is the plaintext end of a <see cref="TlsSocketBridge"/>: a preempt channel is attached
/// to the destination, a resumed main connection is handed to <see cref="AcceptResumedConnection"/>,
/// anything else is closed and logged while the migration goes on.
/// </summary>
/// <remarks>
/// With <see cref="AcceptFurtherConnections"/>, connections are accepted and classified in the
/// background, each on its own as its first bytes arrive: a preempt channel may stay silent until a
/// page is asked for, and going by arrival order, as QEMU's destination can after
/// <c>migrate-recover</c>, would race here, since the address stays open and a resumed main channel
/// can be queued before the break has been noticed. Disposing stops accepting and closes every
/// connection it accepted that was not handed out.
/// </remarks>
public sealed partial class DestinationListener : IDisposable
{
    private readonly Socket _listener;
    private readonly MigrationTlsCredentials? _tls;
    private readonly TimeSpan _handshakeLimit;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<Socket> _resumedConnections = new();
    private readonly List<Socket> _accepted = [];
    private readonly string? _unixSocketPath;
    private Task? _accepting;

    private DestinationListener(Socket listener, MigrationTlsCredentials? tls, TimeSpan handshakeLimit, ILogger logger)
    {
        _listener = listener;
        _tls = tls;
        _handshakeLimit = handshakeLimit;
        _logger = logger;
        LocalEndPoint = listener.LocalEndPoint!;
        // A Unix socket's file is the listener's own; left behind, it would make the next listen there fail.
        _unixSocketPath = (LocalEndPoint as UnixDomainSocketEndPoint)?.ToString();
    }

    /// <summary>Where it listens (the port the system chose, for port 0).</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>
    /// Listens on <paramref name="endpoint"/>. With <paramref name="tls"/> (server credentials), every
    /// connection must complete a TLS handshake within <paramref name="handshakeLimit"/>.
    /// </summary>
    /// <exception cref="IOException">The address cannot be bound; the message says why.</exception>
    public static DestinationListener Listen(EndPoint endpoint, MigrationTlsCredentials? tls, TimeSpan handshakeLimit, ILogger<DestinationListener>? logger = null) =>
        new(MigrationTransport.Listen(endpoint), tls, handshakeLimit, (ILogger?)logger ?? NullLogger.Instance);

    /// <summary>
    /// Waits for the source's main connection and returns the stream to read the migration from
    /// (<see cref="PostcopyDestination.ReceiveAsync(Stream, CancellationToken)"/>): a <see cref="NetworkStream"/>
    /// that owns the accepted socket, or, with TLS, the <see cref="SslStream"/> of its session. Disposing it closes the connection.
    /// </summary>
    /// <exception cref="MigrationTlsException">Its TLS handshake failed (the connection is closed; the message says why).</exception>
    public Stream AcceptMainConnection(CancellationToken cancellationToken = default)
    {
        var accepted = _listener.AcceptAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
        MigrationTransport.SetNoDelay(accepted);
        LogSourceConnected(_logger, Describe(accepted.RemoteEndPoint));
        return _tls is null
            ? new NetworkStream(accepted, ownsSocket: true)
            : MigrationTls.AcceptAsync(accepted, _tls, _handshakeLimit, cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>
    /// From now on accepts further connections in the background: preempt channels are attached to
    /// <paramref name="destination"/>, resumed main connections wait for <see cref="AcceptResumedConnection"/>.
    /// </summary>
    public void AcceptFurtherConnections(PostcopyDestination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_accepting is not null)
        {
            throw new InvalidOperationException("further connections are already being accepted");
        }

        _accepting = Task.Run(async () =>
        {
            while (true)
            {
                var connection = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                Keep(connection);
                MigrationTransport.SetNoDelay(connection);
                _ = Task.Run(() => Classify(connection, destination));
            }
        });
    }

    /// <summary>
    /// Waits for a source resuming the migration: from the background accepting when it runs,
    /// otherwise by accepting here, closing every connection that does not open as a resumed main
    /// channel (within 30 s) or fails its TLS handshake. A connection is told apart by peeking at its
    /// first bytes, so under TLS the one returned is the plaintext end of a <see cref="TlsSocketBridge"/>.
    /// </summary>
    public Socket AcceptResumedConnection(CancellationToken cancellationToken = default)
    {
        if (_accepting is not null)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, cancellationToken);
            return _resumedConnections.Take(both.Token);
        }

        while (true)
        {
            var accepted = _listener.AcceptAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
            MigrationTransport.SetNoDelay(accepted);
            var remote = Describe(accepted.RemoteEndPoint);
            Socket connection;
            try
            {
                connection = Secure(accepted);
            }
            catch (MigrationTlsException e)
            {
                LogClosedRefusedTls(_logger, remote, e.Message);
                continue;
            }

            var kind = IncomingConnection.Classify(connection, TimeSpan.FromSeconds(30));
            if (kind == IncomingConnectionKind.ResumedMainChannel)
            {
                return connection;
            }

            LogClosedNotResuming(_logger, remote, kind.ToString());
            connection.Dispose();
        }
    }

    /// <summary>
    /// Receives one migration into <paramref name="destination"/> over this listener, as <c>qmig receive</c>
    /// does: the main connection; with <paramref name="preemptChannels"/>, further connections in the
    /// background; and, when the destination pauses (<see cref="DestinationOptions.Recover"/>), the
    /// source's resumed connection, as often as it pauses. Without either, the address is closed once
    /// the main connection is in. Returns when the migration completed; a failure throws as
    /// <see cref="PostcopyDestination.Receive(Stream)"/> does.
    /// </summary>
    public void ReceiveInto(PostcopyDestination destination, bool preemptChannels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var connection = AcceptMainConnection(cancellationToken);
        if (preemptChannels)
        {
            AcceptFurtherConnections(destination);
        }
        else if (!destination.Options.Recover)
        {
            StopListening();
        }

        Socket? resumed = null;
        try
        {
            while ((resumed is null ? destination.Receive(connection) : destination.Receive(resumed)) == ReceiveOutcome.Paused)
            {
                LogWaitingForResume(_logger, MigrationAddress.Format(LocalEndPoint));
                resumed?.Dispose();
                resumed = AcceptResumedConnection(cancellationToken);
            }
        }
        finally
        {
            resumed?.Dispose();
        }
    }

    /// <summary>No further connection is expected (no preempt channel, no recovery): the address is closed.</summary>
    public void StopListening()
    {
        _stop.Cancel();
        _listener.Dispose();
        DeleteUnixSocketFile();
    }

    /// <summary>A further connection to classify and read from: the accepted one, or the plaintext end of its TLS session.</summary>
    private Socket Secure(Socket accepted) => _tls is null
        ? accepted
        : TlsSocketBridge.Open(MigrationTls.AcceptAsync(accepted, _tls, _handshakeLimit).GetAwaiter().GetResult());

    private void Classify(Socket accepted, PostcopyDestination destination)
    {
        var remote = Describe(accepted.RemoteEndPoint);
        try
        {
            var connection = Secure(accepted);
            if (!ReferenceEquals(connection, accepted))
            {
                Keep(connection);
            }

            switch (IncomingConnection.Classify(connection, Timeout.InfiniteTimeSpan))
            {
                case IncomingConnectionKind.ResumedMainChannel:
                    _resumedConnections.Add(connection);
                    break;
                case IncomingConnectionKind.PreemptChannel:
                    destination.AttachPreemptChannel(connection);
                    break;
                case IncomingConnectionKind.Unexpected:
                    LogClosedUnexpected(_logger, remote);
                    connection.Dispose();
                    break;
                case IncomingConnectionKind.Closed:
                    break;
            }
        }
        catch (MigrationTlsException e)
        {
            LogClosedRefusedTlsMigrationGoesOn(_logger, remote, e.Message);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Closed while waiting because the migration ended is not worth a word; anything else is.
            if (!_stop.IsCancellationRequested)
            {
                LogFailedBeforeUse(_logger, remote, e.Message);
            }
        }
    }

    private void Keep(Socket connection)
    {
        lock (_accepted)
        {
            _accepted.Add(connection);
        }
    }

    private static string Describe(EndPoint? remote) => remote is IPEndPoint ip ? ip.ToString() : MigrationAddress.Format(remote);

    private void DeleteUnixSocketFile()
    {
        if (_unixSocketPath is not null)
        {
            File.Delete(_unixSocketPath);
        }
    }

    /// <summary>Stops accepting and closes the listening socket and every further connection accepted in the background.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            _accepting?.Wait();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is OperationCanceledException or SocketException or ObjectDisposedException))
        {
            // Accepting stopped.
        }

        lock (_accepted)
        {
            foreach (var connection in _accepted)
            {
                connection.Dispose();
            }
        }

        DeleteUnixSocketFile();
        _resumedConnections.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "waiting on {Address} for the source to resume the migration")]
    private static partial void LogWaitingForResume(ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "source connected from {Remote}")]
    private static partial void LogSourceConnected(ILogger logger, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "closed a connection from {Remote}: {Reason}")]
    private static partial void LogClosedRefusedTls(ILogger logger, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "closed a connection from {Remote}: {Reason}; the migration goes on")]
    private static partial void LogClosedRefusedTlsMigrationGoesOn(ILogger logger, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "closed a connection from {Remote} that did not resume the migration ({Kind})")]
    private static partial void LogClosedNotResuming(ILogger logger, string remote, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "closed a connection from {Remote} that is neither a preempt channel nor a resumed migration; the migration goes on")]
    private static partial void LogClosedUnexpected(ILogger logger, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "a connection from {Remote} failed before it could be used: {Reason}")]
    private static partial void LogFailedBeforeUse(ILogger logger, string remote, string reason);
}
