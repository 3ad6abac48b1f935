using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Qmig.Postcopy.Destination;
using Qmig.Wire;
using Qmig.Wire.Machines;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Proxy;

/// <summary>
/// A migration-aware man in the middle: the source migrates to the proxy's listening socket, and
/// for every connection the source opens the proxy opens one to the destination, in the same
/// order (QEMU's destination tells its channels apart by order), and forwards every byte
/// unchanged both ways. It decodes as the bytes pass, with the runtime's push readers on the same
/// buffer: the main stream (precopy rounds, pages by kind, commands, the postcopy state), the
/// postcopy-preempt channel, and the return path's page requests, timed until the requested page
/// passes towards the destination on either channel.
/// </summary>
/// <remarks>
/// <para>Each direction reads a chunk and writes it whole to the other side before reading the
/// next, so a slow reader slows its writer exactly as without the proxy; the chunk is recorded and
/// decoded from the same buffer. A connection after the first is classified by peeking at its
/// first bytes (<see cref="IncomingConnection.Classify"/>), which are then forwarded unchanged.</para>
/// <para>The proxy is a witness, not a judge: a stream that fails to decode is reported and still
/// forwarded, unless <see cref="ProxyOptions.Strict"/>. When a side closes before the main stream is
/// complete, the other side is closed and the run fails, except when the source closes during
/// postcopy (a <c>migrate-pause</c>): the proxy then keeps listening for the source to resume, and
/// connects the resumed connections to <see cref="ProxyOptions.RecoverDestination"/>.</para>
/// </remarks>
public sealed partial class MigrationProxy : IDisposable
{
    private readonly Socket _listener;
    private readonly string? _unixSocketPath;
    private readonly ProxyOptions _options;
    private readonly ProxyTally _tally = new();
    private readonly ProxyRecorder? _recorder;
    private readonly MigrationStreamReader _main = new();
    private readonly ManualResetEventSlim _finished = new();
    private readonly SemaphoreSlim _mainFree = new(1, 1);
    private readonly List<ProxyConnection> _connections = [];
    private readonly List<Thread> _threads = [];
    private readonly object _lifecycle = new();
    private int _accepted;
    private int _mainGeneration = -1;
    private int _preemptGeneration = -1;
    private int _otherCount;
    private volatile bool _paused;
    private volatile bool _over;
    private ProxyOutcome? _outcome;

    /// <summary>Starts nothing yet: <paramref name="listener"/> is a bound, listening socket (see <see cref="MigrationTransport.Listen"/>) that <see cref="Run"/> accepts on.</summary>
    public MigrationProxy(Socket listener, ProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkSize, 4096);
        _listener = listener;
        // A Unix socket's file is the listener's own; left behind, it would make the next listen there fail.
        _unixSocketPath = (listener.LocalEndPoint as UnixDomainSocketEndPoint)?.ToString();
        _options = options;
        _recorder = options.RecordDirectory is null ? null : new ProxyRecorder(options.RecordDirectory);
    }

    /// <summary>Where the proxy listens (the port the system chose, for port 0).</summary>
    public EndPoint? LocalEndPoint => _listener.LocalEndPoint;

    /// <summary>What has passed so far; safe to call from any thread while <see cref="Run"/> runs.</summary>
    public ProxyFigures Figures => _tally.Snapshot();

    /// <summary>Why the run failed: which side closed, in which state, at which offset (null unless <see cref="Run"/> returned <see cref="ProxyOutcome.Failed"/>).</summary>
    public string? FailureMessage { get; private set; }

    /// <summary>
    /// Accepts the source's connections and forwards them until the migration is over: the main
    /// stream completed (and the other connections closed, or <see cref="ProxyOptions.CompletionGrace"/>
    /// passed), or it failed, or <paramref name="cancellationToken"/> fired. Every connection is closed on return.
    /// </summary>
    public ProxyOutcome Run(CancellationToken cancellationToken = default)
    {
        var accepting = new Thread(Accept) { IsBackground = true, Name = "proxy accept" };
        accepting.Start();
        try
        {
            _finished.Wait(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Finish(ProxyOutcome.Cancelled, null);
        }

        _listener.Dispose();
        Thread[] threads;
        lock (_lifecycle)
        {
            threads = [.. _threads];
        }

        if (_outcome == ProxyOutcome.Completed)
        {
            var deadline = Stopwatch.StartNew();
            foreach (var thread in threads)
            {
                var left = _options.CompletionGrace - deadline.Elapsed;
                thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
        }

        AbortAll();
        foreach (var thread in threads.Append(accepting))
        {
            // Every socket is shut down by now, so each thread returns at once; one that does not
            // is named rather than left to hold the run open.
            if (!thread.Join(ShutdownLimit))
            {
                var phase = _connections.FirstOrDefault(c => c.Thread == thread)?.Phase ?? "accepting";
                Log($"{thread.Name} did not stop within {ShutdownLimit.TotalSeconds} s of the end ({phase})");
            }
        }

        _recorder?.Dispose();
        return _outcome!.Value;
    }

    private static readonly TimeSpan ShutdownLimit = TimeSpan.FromSeconds(5);

    private void Accept()
    {
        while (true)
        {
            Socket source;
            try
            {
                source = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            MigrationTransport.SetNoDelay(source);
            var first = _accepted++ == 0;
            var target = _paused ? _options.RecoverDestination ?? _options.Destination : _options.Destination;
            Socket destination;
            try
            {
                // Connected before the next accept: the destination sees the channels in the source's order.
                destination = MigrationTransport.Connect(target);
            }
            catch (SocketException e)
            {
                source.Dispose();
                var message = $"cannot connect to the destination at {target}: {e.Message}";
                if (first)
                {
                    Finish(ProxyOutcome.Failed, message);
                    return;
                }

                Log($"{message}; closed the source's connection");
                continue;
            }

            var connection = new ProxyConnection(source, destination);
            var thread = new Thread(() => Serve(connection, first)) { IsBackground = true, Name = $"connection {_accepted - 1}" };
            connection.Phase = "classifying";
            lock (_lifecycle)
            {
                if (_outcome is not null)
                {
                    connection.Dispose();
                    return;
                }

                connection.Thread = thread;
                _connections.Add(connection);
                _threads.Add(thread);
            }

            thread.Start();
        }
    }

    private void Serve(ProxyConnection connection, bool first)
    {
        using var _ = connection;
        var kind = first ? IncomingConnectionKind.ResumedMainChannel : Classify(connection.Source);
        switch (kind)
        {
            case IncomingConnectionKind.ResumedMainChannel:
                ServeMain(connection, resumed: !first);
                break;
            case IncomingConnectionKind.PreemptChannel:
                ServePreempt(connection);
                break;
            default:
                connection.Channel = ProxyChannel.Other;
                connection.Generation = Interlocked.Increment(ref _otherCount) - 1;
                Register(connection);
                if (kind == IncomingConnectionKind.Unexpected)
                {
                    Log($"a connection from {connection.Source.RemoteEndPoint} is neither a preempt channel nor a resumed migration: forwarded without decoding");
                }

                RunConnection(connection, null, null, isMain: false);
                break;
        }
    }

    private static IncomingConnectionKind Classify(Socket source)
    {
        try
        {
            return IncomingConnection.Classify(source, Timeout.InfiniteTimeSpan);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return IncomingConnectionKind.Closed;
        }
    }

    private void ServeMain(ProxyConnection connection, bool resumed)
    {
        // One main connection at a time: a resumed one reads on with the reader the last one left.
        connection.Phase = "waiting for the previous main connection to end";
        _mainFree.Wait();
        try
        {
            StreamDecoder forward;
            ReturnPathDecoder back;
            lock (_tally.Sync)
            {
                if (resumed)
                {
                    _main.ContinueOnResumedChannel();
                    _tally.Resumes++;
                }

                connection.Channel = ProxyChannel.Main;
                connection.Generation = ++_mainGeneration;
                forward = new StreamDecoder(_main, _tally, preempt: false, startOffset: _main.Position);
                var returnFile = ProxyRecorder.FileName(ProxyChannel.Main, forward: false, connection.Generation);
                var blocks = resumed ? _main.Blocks.ToArray() : null;
                back = new ReturnPathDecoder(new ReturnPathReader(blocks: blocks, targetPageSize: _main.TargetPageSize), _main, _tally, returnFile, _options.Log);
            }

            Register(connection);
            if (resumed)
            {
                Log($"the source resumed the migration: main connection {connection.Generation}");
            }

            var (firstEnd, secondEnd) = RunConnection(connection, forward, back, isMain: true);
            bool completed;
            string state;
            lock (_tally.Sync)
            {
                // A stream that stopped decoding cannot be judged complete: then the sides judge,
                // and both closing in order is what they do after a migration.
                completed = forward.IsCompleted || (forward.Abandoned && firstEnd.Failure is null && secondEnd.Failure is null);
                if (completed && _tally.PostcopyState == PostcopyMachine.State.Running)
                {
                    PostcopyMachine.TryFire(ref _tally.PostcopyState, PostcopyMachine.Trigger.End);
                }

                _tally.Completed = completed;
                state = _tally.Describe();
                if (!completed && firstEnd.ClosedBy == ProxySide.Source && _tally.InPostcopy && !_over)
                {
                    _paused = true;
                }
            }

            var file = ProxyRecorder.FileName(ProxyChannel.Main, forward: true, connection.Generation);
            if (completed)
            {
                Log(forward.IsCompleted
                    ? $"the migration stream is complete: {connection.ForwardBytes} bytes forward, {connection.ReturnBytes} bytes back on main connection {connection.Generation}"
                    : $"both sides closed main connection {connection.Generation} in order after {connection.ForwardBytes} bytes forward, {connection.ReturnBytes} bytes back; the stream did not decode, so whether it was complete is not known");
                Finish(ProxyOutcome.Completed, null);
            }
            else if (_paused && firstEnd.ClosedBy == ProxySide.Source && !_over)
            {
                Log($"the source {firstEnd.How} the main channel in {state} at offset 0x{connection.ForwardBytes:x} of {file}: postcopy is paused, waiting for the source to resume");
            }
            else
            {
                var other = firstEnd.ClosedBy == ProxySide.Source ? "destination" : "source";
                Finish(ProxyOutcome.Failed,
                    $"the {Name(firstEnd.ClosedBy)} {firstEnd.How} the main channel in {state} at offset 0x{connection.ForwardBytes:x} of {file} " +
                    $"(return path at 0x{connection.ReturnBytes:x}); closed the {other}'s connections");
            }
        }
        finally
        {
            _mainFree.Release();
        }
    }

    private void ServePreempt(ProxyConnection connection)
    {
        StreamDecoder forward;
        lock (_tally.Sync)
        {
            connection.Channel = ProxyChannel.Preempt;
            connection.Generation = ++_preemptGeneration;
            forward = new StreamDecoder(new MigrationStreamReader(_main.PreemptChannelOptions()), _tally, preempt: true, startOffset: 0);
        }

        Register(connection);
        var (end, _) = RunConnection(connection, forward, null, isMain: false);
        if (!_over)
        {
            Log($"the {Name(end.ClosedBy)} {end.How} preempt channel {connection.Generation} at offset 0x{connection.ForwardBytes:x}");
        }
    }

    private void Register(ProxyConnection connection)
    {
        lock (_tally.Sync)
        {
            _tally.Connections.Add(connection);
        }
    }

    /// <summary>
    /// Forwards both directions until both have ended; returns how they ended, the first first. Once one
    /// has, the other gets <see cref="ProxyOptions.CloseGrace"/> to end by itself (a side closing in
    /// reply), or <see cref="ProxyOptions.CompletionGrace"/> once the main stream is complete.
    /// </summary>
    private (PumpEnd First, PumpEnd Second) RunConnection(ProxyConnection connection, ChannelDecoder? forward, ChannelDecoder? back, bool isMain)
    {
        connection.Phase = $"forwarding {connection.Channel} {connection.Generation}";
        var forwardFile = ProxyRecorder.FileName(connection.Channel, forward: true, connection.Generation);
        var returnFile = ProxyRecorder.FileName(connection.Channel, forward: false, connection.Generation);
        var pumps = new[]
        {
            Task.Factory.StartNew(() => Pump(connection, forward: true, forward, forwardFile), TaskCreationOptions.LongRunning),
            Task.Factory.StartNew(() => Pump(connection, forward: false, back, returnFile), TaskCreationOptions.LongRunning),
        };
        var firstIndex = Task.WaitAny(pumps);
        var other = pumps[1 - firstIndex];
        if (isMain)
        {
            bool complete;
            if (!other.Wait(_options.CloseGrace))
            {
                lock (_tally.Sync)
                {
                    complete = forward?.IsCompleted == true;
                }

                if (!complete || !other.Wait(_options.CompletionGrace))
                {
                    connection.Abort();
                }
            }
        }
        else
        {
            // A further channel half-closed stays open while the migration goes on (a preempt
            // channel may be silent for long); once the migration is over, nothing more can pass.
            while (!other.Wait(TimeSpan.FromMilliseconds(100)))
            {
                if (_over)
                {
                    connection.Abort();
                }
            }
        }

        connection.Phase = $"closing {connection.Channel} {connection.Generation}";
        Task.WaitAll(pumps);
        connection.Phase = "done";
        var ends = pumps.Select(p => p.Result).OrderBy(e => e.Timestamp).ToArray();
        return (ends[0], ends[1]);
    }

    private void Finish(ProxyOutcome outcome, string? failure)
    {
        lock (_lifecycle)
        {
            if (_outcome is not null)
            {
                return;
            }

            _outcome = outcome;
            FailureMessage = failure;
            _over = true;
        }

        if (outcome != ProxyOutcome.Completed)
        {
            AbortAll();
        }

        _finished.Set();
    }

    private void AbortAll()
    {
        lock (_lifecycle)
        {
            foreach (var connection in _connections)
            {
                connection.Abort();
            }
        }
    }

    private void Log(string message) => _options.Log?.WriteLine($"proxy: {message}");

    private static string Name(ProxySide side) => side == ProxySide.Source ? "source" : "destination";

    /// <summary>
    /// Stops listening (removing a Unix socket's file), aborts every connection still open, and closes the
    /// recording.
    /// </summary>
    public void Dispose()
    {
        _listener.Dispose();
        if (_unixSocketPath is not null)
        {
            File.Delete(_unixSocketPath);
        }

        AbortAll();
        _recorder?.Dispose();
        _finished.Dispose();
        _mainFree.Dispose();
    }
}
