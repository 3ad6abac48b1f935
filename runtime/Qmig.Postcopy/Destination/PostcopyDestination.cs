using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qmig.Linux;
using Qmig.Linux.Memory;
using Qmig.Wire.Machines;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The destination of a postcopy migration from a real QEMU source: reads the main stream from a
/// socket or any duplex stream, answers on its return path, keeps guest RAM in userfaultfd-registered
/// memory (its own, or a VMM's through <see cref="IDestinationMemory"/>), hands the device state
/// over at POSTCOPY_RUN (<see cref="DestinationOptions.OnPostcopyRun"/>) and requests the pages the
/// guest faults on; with postcopy-preempt, a second connection brings the requested pages (see
/// <see cref="AttachPreemptChannel"/>).
/// </summary>
/// <remarks>
/// One instance receives one migration: <see cref="ReceiveAsync(Stream, CancellationToken)"/> once, and again on each resumed
/// connection while it returns <see cref="ReceiveOutcome.Paused"/>.
/// One thread reads the main connection and moves the migration through its states: it is QEMU's listen
/// thread from LISTEN on, so a requested page is placed as soon as its record is parsed. The work
/// is shared out: <see cref="PagePlacer"/> puts pages into memory, <see cref="FaultRequester"/>
/// turns userfaults into page requests, <see cref="PreemptChannel"/> reads the preempt channel,
/// <see cref="LinkRecovery"/> keeps the link through a break, <see cref="ReturnPathSender"/> writes
/// the return path.
/// </remarks>
public sealed partial class PostcopyDestination : IDisposable
{
    private const int ReceiveBufferSize = 8 << 20;

    private readonly DestinationOptions _options;
    private readonly IDestinationMemory _memory;
    private readonly MemfdDestinationMemory? _ownMemory;
    private readonly ILogger _logger;
    private readonly ReceivedBlocks _blocks = new();
    private readonly List<byte[]> _configurationRecords = [];
    private readonly List<ReceivedDevice> _devices = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly PagePlacer _placer;
    private readonly FaultRequester _faults;
    private readonly PreemptChannel _preempt;
    private readonly LinkRecovery _recovery;
    private MigrationStreamReader? _reader;
    private ReturnPathSender? _sender;
    /// <summary>What <see cref="DestinationOptions.OnPostcopyRun"/> returned, stopped when the migration ends.</summary>
    private IDisposable? _guest;
    private PostcopyMachine.State _state = PostcopyMachine.Initial;
    private long _stateSince = Stopwatch.GetTimestamp();
    private SectionInfo? _ramSection;
    private bool _returnPathOpen;
    private bool _endOfSections;

    /// <summary>A destination that allocates guest RAM of its own (<see cref="MemfdDestinationMemory"/>) and frees it on <see cref="Dispose"/>.</summary>
    /// <exception cref="UserfaultfdUnavailableException">The kernel or its settings offer no userfaultfd to this process.</exception>
    public PostcopyDestination(DestinationOptions? options = null, ILogger<PostcopyDestination>? logger = null)
        : this(new MemfdDestinationMemory(), ownsMemory: true, options, logger)
    {
    }

    /// <summary>
    /// A destination that receives into <paramref name="memory"/>, the caller's: a VMM's guest RAM
    /// and its userfaultfd. <see cref="Dispose"/> leaves both to the caller.
    /// </summary>
    public PostcopyDestination(IDestinationMemory memory, DestinationOptions? options = null, ILogger<PostcopyDestination>? logger = null)
        : this(memory ?? throw new ArgumentNullException(nameof(memory)), ownsMemory: false, options, logger)
    {
    }

    private PostcopyDestination(IDestinationMemory memory, bool ownsMemory, DestinationOptions? options, ILogger? logger)
    {
        _options = options ?? new DestinationOptions();
        _memory = memory;
        _ownMemory = ownsMemory ? (MemfdDestinationMemory)memory : null;
        _logger = logger ?? NullLogger.Instance;
        var clocks = new PageRequestClocks(Stats);
        _placer = new PagePlacer(_blocks, Stats, clocks, _options.MaxGuestRam, Lost);
        _faults = new FaultRequester(memory.Userfaultfd, _blocks, clocks, Stats, _options.RequestAhead);
        _recovery = new LinkRecovery(_blocks, () => _state == PostcopyMachine.State.Listening);
        _preempt = new PreemptChannel(_blocks, _placer, _recovery, Stats, _options.Recover, () => Volatile.Read(ref _endOfSections), _logger, Lost, _stop.Token);
    }

    /// <summary>The options it was made with.</summary>
    public DestinationOptions Options => _options;

    /// <summary>What the migration did so far: pages by phase, faults, requests, latencies, bytes.</summary>
    public DestinationStats Stats { get; } = new();

    /// <summary>The postcopy state, by the generated machine (spec/machines/postcopy.fsm.yaml).</summary>
    public PostcopyMachine.State State => _state;

    /// <summary>The RAM blocks in the order of the source's block list.</summary>
    public IReadOnlyList<RamBlockMemory> Blocks => _blocks.Memories;

    /// <summary>Device sections in the order they arrived (for a postcopy migration: the package's).</summary>
    public IReadOnlyList<ReceivedDevice> Devices => _devices;

    private bool Postcopy => _state is PostcopyMachine.State.Listening or PostcopyMachine.State.Running;

    /// <summary>
    /// QEMU's destination pauses from postcopy-active, which LISTEN enters; a pause needs the package
    /// whole, though (its RUN and device state come only once), and that holds from RUN on.
    /// </summary>
    private bool CanPause => _options.Recover && _state == PostcopyMachine.State.Running && !_endOfSections;

    /// <summary>
    /// Reads <paramref name="channel"/> as the migration's postcopy-preempt channel on a thread of
    /// its own, placing each page the moment its record is parsed. Call it when the source opens its
    /// second connection (QEMU 7.2 opens it right after the main one; 10.x when postcopy starts).
    /// </summary>
    /// <remarks>
    /// With <see cref="DestinationOptions.Recover"/> a resumed source opens a new preempt channel
    /// after the new main one: attaching it replaces the broken one (whose pages, if a record was cut
    /// off, the source sends again). A second channel while the current one is still read is closed.
    /// </remarks>
    public void AttachPreemptChannel(Socket channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _preempt.Attach(channel);
    }

    /// <summary>
    /// Receives one incoming migration on <paramref name="connection"/> until the source closes it,
    /// on a thread of its own that ends with the returned task. It is read with blocking receives
    /// straight into the receive buffer, as <see cref="ReceiveAsync(Stream, CancellationToken)"/> reads a <see cref="NetworkStream"/>.
    /// </summary>
    /// <param name="connection">The source's main connection; the return path goes back on it. The caller keeps it and disposes it.</param>
    /// <param name="cancellationToken">
    /// Abandons the migration: the receive stops at once, even blocked in a read (the connection is
    /// shut down for receiving), faulting stops on every block (waking blocked vCPUs), the fault and
    /// preempt-channel threads are joined, and the task ends canceled. The destination is then failed.
    /// </param>
    /// <returns>
    /// <see cref="ReceiveOutcome.Completed"/>; or, with <see cref="DestinationOptions.Recover"/>, when
    /// the connection breaks during postcopy, <see cref="ReceiveOutcome.Paused"/>: call again with the
    /// source's resumed connection.
    /// </returns>
    /// <exception cref="DestinationException">The migration failed; the message says where and what was lost.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="InvalidOperationException">The migration was already received (or failed).</exception>
    public Task<ReceiveOutcome> ReceiveAsync(Socket connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return ReceiveOnOwnThread(MainConnection.Of(connection), cancellationToken);
    }

    /// <summary>
    /// Receives one incoming migration from <paramref name="connection"/>, any duplex stream (a
    /// <see cref="NetworkStream"/>, an <see cref="System.Net.Security.SslStream"/>, a pipe), until the
    /// source's end of it closes, on a thread of its own that ends with the returned task. The return
    /// path is written to the same stream, each message flushed as it is written.
    /// </summary>
    /// <remarks>
    /// A <see cref="NetworkStream"/> is read as its socket (<see cref="ReceiveAsync(Socket, CancellationToken)"/>).
    /// Any other stream is read with <see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/>
    /// and a token that the cancellation (or <see cref="DestinationOptions.StallTimeout"/>) cancels,
    /// waited for on the receive thread: its reads must honour that token for a blocked read to end,
    /// as those of <see cref="NetworkStream"/>, <see cref="System.Net.Security.SslStream"/> and the
    /// pipe streams do. The destination reads and writes the stream at the same time, from different
    /// threads, as those streams allow.
    /// </remarks>
    /// <param name="connection">The source's main connection, readable and writable. The caller keeps it and disposes it; once a read was canceled, only disposing is left to do with it.</param>
    /// <param name="cancellationToken">
    /// Abandons the migration: the receive stops at once, even blocked in a read, faulting stops on
    /// every block (waking blocked vCPUs), the fault and preempt-channel threads are joined, and the
    /// task ends canceled. The destination is then failed.
    /// </param>
    /// <returns>
    /// <see cref="ReceiveOutcome.Completed"/>; or, with <see cref="DestinationOptions.Recover"/>, when
    /// the connection breaks during postcopy, <see cref="ReceiveOutcome.Paused"/>: call again with the
    /// source's resumed connection.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="connection"/> cannot be both read and written.</exception>
    /// <exception cref="DestinationException">The migration failed; the message says where and what was lost.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="InvalidOperationException">The migration was already received (or failed).</exception>
    public Task<ReceiveOutcome> ReceiveAsync(Stream connection, CancellationToken cancellationToken = default)
    {
        ThrowIfNotDuplex(connection);
        return ReceiveOnOwnThread(MainConnection.Of(connection), cancellationToken);
    }

    /// <summary>
    /// <see cref="ReceiveAsync(Socket, CancellationToken)"/> on the calling thread, which it blocks
    /// until the migration completes, pauses or fails.
    /// </summary>
    public ReceiveOutcome Receive(Socket connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var main = MainConnection.Of(connection);
        return Receive(main, CancellationToken.None);
    }

    /// <summary>
    /// <see cref="ReceiveAsync(Stream, CancellationToken)"/> on the calling thread, which it blocks
    /// until the migration completes, pauses or fails.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="connection"/> cannot be both read and written.</exception>
    public ReceiveOutcome Receive(Stream connection)
    {
        ThrowIfNotDuplex(connection);
        using var main = MainConnection.Of(connection);
        return Receive(main, CancellationToken.None);
    }

    private static void ThrowIfNotDuplex(Stream connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!connection.CanRead || !connection.CanWrite)
        {
            throw new ArgumentException("the main connection carries the return path too: it must be readable and writable", nameof(connection));
        }
    }

    private Task<ReceiveOutcome> ReceiveOnOwnThread(MainConnection connection, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            connection.Dispose();
            return Task.FromCanceled<ReceiveOutcome>(cancellationToken);
        }

        var done = new TaskCompletionSource<ReceiveOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Its own thread, not the pool's: it blocks in reads for the whole migration, and it is the
        // thread that places requested pages, which must not wait for a pool thread to be free.
        var thread = new Thread(() =>
        {
            try
            {
                done.TrySetResult(Receive(connection, cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
            finally
            {
                connection.Dispose();
            }
        })
        { IsBackground = true, Name = "qmig receive" };
        thread.Start();
        return done.Task;
    }

    private ReceiveOutcome Receive(MainConnection connection, CancellationToken cancellationToken)
    {
        if (_reader is null)
        {
            _sender = new ReturnPathSender(connection, _options.ReturnPathLog, _recovery.OnReturnPathBroken);
            _reader = new MigrationStreamReader();
            MoveStatus(MigrationStatusDestinationMachine.Trigger.LoadStart, "the source connected");
        }
        else if (InStatus(MigrationStatusDestinationMachine.State.PostcopyPaused))
        {
            ContinueOnResumedConnection(connection);
        }
        else
        {
            throw new InvalidOperationException("this destination has already received its migration");
        }

        _recovery.Use(connection);
        // Ending reads on the connection ends a read blocked on it; the loop then sees the cancellation.
        using var cancellation = cancellationToken.Register(connection.EndReads);
        var reader = _reader;
        var visitor = new Visitor(this);
        var window = new InputWindow(ReceiveBufferSize);
        var shutSent = false;
        try
        {
            while (true)
            {
                if (!window.IsFinal)
                {
                    Stats.BytesReceived += ReceiveSome(connection, window, shutSent);
                }

                cancellationToken.ThrowIfCancellationRequested();

                var sequence = window.Unconsumed;
                var status = reader.Read(ref sequence, window.IsFinal, ref visitor);
                window.Consumed(sequence);
                _placer.FlushBackgroundRun();
                ThrowIfFaultThreadFailed();
                _preempt.ThrowIfFailed();
                if (_recovery.LinkError is { } broken && !_endOfSections)
                {
                    if (CanPause)
                    {
                        return Pause($"the connection failed ({broken.Message})");
                    }

                    // Under recovery a break noticed inside the package (a PONG that could not be sent)
                    // waits for the rest of the package, which the source sent before the break: its
                    // RUN makes the migration pausable. Anything else has lost the guest or never had it.
                    if (!(_options.Recover && _state == PostcopyMachine.State.Listening))
                    {
                        throw Lost($"the connection failed: {broken.Message}", broken);
                    }
                }

                if (window.IsFinal && status != OperationStatus.Done && CanPause)
                {
                    // The link broke (a record it cut off reads as truncated): wait for the source to resume.
                    return Pause($"the source closed the connection at stream offset {reader.Position}");
                }

                if (status == OperationStatus.InvalidData)
                {
                    throw Lost($"the stream is invalid: {reader.Error}");
                }

                if (status == OperationStatus.Done)
                {
                    break;
                }

                if (window.IsFinal)
                {
                    throw Lost(_state == PostcopyMachine.State.Listening
                        ? "the connection ended inside the PACKAGED device state, after its LISTEN and before its RUN; the source will not send the package again, so no resume can complete it (QEMU's destination fails here too)"
                        : "the source closed the connection before the end of the stream");
                }

                if (_endOfSections && !shutSent)
                {
                    Finish(cancellationToken);
                    shutSent = true;
                }
            }

            if (!shutSent)
            {
                Finish(cancellationToken);
            }

            // The source closes its preempt channel once it has our SHUT.
            _preempt.Stop(TimeSpan.FromSeconds(10));
            return ReceiveOutcome.Completed;
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            Abort();
            throw new OperationCanceledException("the receive was canceled; the migration is abandoned", e, cancellationToken);
        }
        catch (DestinationException)
        {
            Abort();
            throw;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException && CanPause)
        {
            return Pause($"the connection failed ({e.Message})");
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            Abort();
            throw Lost($"the connection failed: {e.Message}", e);
        }
        finally
        {
            Stats.BytesSent = _sender!.BytesSent;
            Stats.Pongs = _sender.Pongs;
            Stats.PageRequests = _sender.PageRequests;
            Stats.PageRequestsWithId = _sender.PageRequestsWithId;
        }
    }

    /// <summary>
    /// After SHUT the source has what it needs and closes; a source that lingers is not waited for
    /// beyond a few seconds, because every page is already here. Before LISTEN a source that stalls
    /// is given up after <see cref="DestinationOptions.StallTimeout"/>; from LISTEN on it is waited
    /// for, since it holds pages the guest needs.
    /// </summary>
    private int ReceiveSome(MainConnection connection, InputWindow window, bool shutSent)
    {
        var beforeListen = _state is PostcopyMachine.State.None or PostcopyMachine.State.Advise or PostcopyMachine.State.Discard;
        var timeout = shutSent ? TimeSpan.FromSeconds(10)
            : beforeListen ? _options.StallTimeout
            : Timeout.InfiniteTimeSpan;
        try
        {
            return connection.ReadInto(window, timeout);
        }
        catch (TimeoutException) when (shutSent)
        {
            window.MarkFinal();
            return 0;
        }
        catch (TimeoutException e) when (beforeListen)
        {
            throw Lost($"the source sent nothing for {_options.StallTimeout.TotalSeconds:0.#} s (stall timeout)", e);
        }
    }

    /// <summary>The stream has ended: stop the guest threads, check every page, and tell the source.</summary>
    private void Finish(CancellationToken cancellationToken)
    {
        _preempt.Drain(cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        // Checked before the guest threads are stopped: a thread faulting on a page that never came
        // would be joined forever. The failure's Abort wakes such threads.
        var missing = _blocks.MissingPages();
        if (missing > 0)
        {
            if (_returnPathOpen)
            {
                _sender!.Shut(1);
            }

            throw Lost($"the stream ended with {missing} pages never received; the guest cannot run from this copy");
        }

        StopGuest();

        if (_returnPathOpen)
        {
            _sender!.Shut(0);
        }

        if (_state == PostcopyMachine.State.Running)
        {
            Move(PostcopyMachine.Trigger.End, "the end of the stream");
        }

        MoveStatus(MigrationStatusDestinationMachine.Trigger.Complete, "the end of the stream");

        _logger.Completed(_blocks.Memories.Sum(b => b.PageCount), _blocks.Count, _devices.Count);
    }

    private void Abort()
    {
        MarkFailed();
        _stop.Cancel();
        // Wakes guest threads blocked on pages that will never come, so they can see the stop.
        _blocks.StopFaulting();
        JoinThreads();
        _preempt.Stop(TimeSpan.Zero);
    }

    private void StopGuest()
    {
        _stop.Cancel();
        JoinThreads();
        ThrowIfFaultThreadFailed();
    }

    private void JoinThreads()
    {
        _guest?.Dispose();
        _guest = null;
        _faults.Join();
    }

    private void ThrowIfFaultThreadFailed()
    {
        if (_faults.Error is { } error)
        {
            throw error switch
            {
                DestinationException lost => lost,
                SocketException or IOException or ObjectDisposedException =>
                    Lost($"the connection to the source failed while requesting a page ({error.Message})", error),
                _ => Lost($"the fault thread failed: {error.Message}", error),
            };
        }
    }

    private ReceiveOutcome Pause(string why)
    {
        _sender!.Detach();
        _placer.FlushBackgroundRun();
        _placer.ResetMainAssembly();
        MoveStatus(MigrationStatusDestinationMachine.Trigger.LinkLost, why);
        _recovery.Paused();
        Stats.Pauses++;
        _logger.Paused(_blocks.MissingPages());
        return ReceiveOutcome.Paused;
    }

    private void ContinueOnResumedConnection(MainConnection connection)
    {
        Stats.SecondsPaused += _recovery.Resumed();
        _sender!.Attach(connection);
        _reader!.ContinueOnResumedChannel();
        MoveStatus(MigrationStatusDestinationMachine.Trigger.Reconnected, $"the source reconnected from {connection.Peer}");
    }

    private DestinationException Lost(string reason, Exception? inner = null)
    {
        var outstanding = _blocks.MissingPages();
        var consequence = _state is PostcopyMachine.State.Listening or PostcopyMachine.State.Running
            ? $"{outstanding} pages of guest RAM existed only on the source: the guest is lost (postcopy cannot fall back)"
            : "postcopy had not started, so the source still holds the whole guest";
        var message = $"incoming migration failed at stream offset {_reader?.Position ?? 0} in postcopy state {PostcopyMachine.GetQemuName(_state)}: {reason}; {consequence}";
        return inner is null ? new DestinationException(message) : new DestinationException(message, inner);
    }

    private void Move(PostcopyMachine.Trigger trigger, string what)
    {
        var from = _state;
        if (!PostcopyMachine.TryFire(ref _state, trigger))
        {
            throw Lost($"{what} is not allowed in postcopy state {PostcopyMachine.GetQemuName(from)}");
        }

        var now = Stopwatch.GetTimestamp();
        Stats.AddStateTime(from, Stopwatch.GetElapsedTime(_stateSince, now).TotalSeconds);
        _stateSince = now;
        _logger.PostcopyState(from, _state, what);
    }

    /// <summary>
    /// Writes what was received as a plain precopy stream that QEMU loads with <c>-incoming</c>: the
    /// source's configuration records, one RAM section with every page (zero pages as zero records), the
    /// device sections as received, EOF; QEMU 7.2's own layout, without the vmdesc its loader does not need.
    /// </summary>
    public void WritePrecopyStream(Stream output)
    {
        // Not "the stream ended": a stream can end with pages lost, and its copy must not look complete.
        if (_status != MigrationStatusDestinationMachine.State.Completed)
        {
            throw new InvalidOperationException($"nothing complete to write: the migration is {MigrationStatusDestinationMachine.GetQemuName(_status)}");
        }

        PrecopyStreamWriter.Write(output, _configurationRecords, _ramSection, _blocks.Memories, _devices);
    }

    /// <summary>
    /// Stops faulting on every block, stops what <see cref="DestinationOptions.OnPostcopyRun"/>
    /// returned, joins the destination's threads and, when it allocated guest RAM itself, frees it.
    /// Not while a receive runs: cancel it and wait for its task first.
    /// </summary>
    public void Dispose()
    {
        _stop.Cancel();
        _blocks.StopFaulting();
        JoinThreads();
        _preempt.Stop(TimeSpan.Zero);
        _ownMemory?.Dispose();
        _stop.Dispose();
    }
}
