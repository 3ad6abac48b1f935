using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Qmig.Linux;
using Qmig.Linux.Memory;
using Qmig.Wire.Machines;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The destination of a postcopy migration from a real QEMU source: reads the main stream from the
/// socket, answers on the same socket's return path, keeps guest RAM in userfaultfd-registered
/// memory, runs stand-in vCPU threads after POSTCOPY_RUN and requests the pages they fault on; with
/// postcopy-preempt, a second connection brings the requested pages (see <see cref="AttachPreemptChannel"/>).
/// </summary>
/// <remarks>
/// One thread reads the socket and moves the migration through its states: it is QEMU's listen
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
    private readonly Userfaultfd _uffd;
    private readonly GuestMemory _memory;
    private readonly DestinationEvents _events;
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
    private StandInGuest? _guest;
    private PostcopyMachine.State _state = PostcopyMachine.Initial;
    private long _stateSince = Stopwatch.GetTimestamp();
    private SectionInfo? _ramSection;
    private bool _returnPathOpen;
    private bool _endOfSections;

    public PostcopyDestination(DestinationOptions? options = null)
    {
        _options = options ?? new DestinationOptions();
        _uffd = Userfaultfd.Open();
        _memory = new GuestMemory(_uffd);
        _events = new DestinationEvents(_options.Log);
        var clocks = new PageRequestClocks(Stats);
        _placer = new PagePlacer(_blocks, Stats, clocks, _options.MaxGuestRam, Lost);
        _faults = new FaultRequester(_uffd, _blocks, clocks, Stats, _options.RequestAhead);
        _recovery = new LinkRecovery(_blocks, () => _state == PostcopyMachine.State.Listening);
        _preempt = new PreemptChannel(_blocks, _placer, _recovery, Stats, _options.Recover, () => Volatile.Read(ref _endOfSections), _events, Lost, _stop.Token);
    }

    public DestinationStats Stats { get; } = new();

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
    /// Receives one incoming migration on <paramref name="connection"/> until the source closes it.
    /// Throws <see cref="DestinationException"/> when the migration fails; the message says what was lost.
    /// With <see cref="DestinationOptions.Recover"/>, a connection that breaks during postcopy returns
    /// <see cref="ReceiveOutcome.Paused"/> instead; call again with the source's resumed connection.
    /// </summary>
    public ReceiveOutcome Receive(Socket connection)
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
        var reader = _reader;
        var visitor = new Visitor(this);
        var window = new ReceiveWindow(ReceiveBufferSize);
        var shutSent = false;
        try
        {
            while (true)
            {
                if (!window.Final)
                {
                    Stats.BytesReceived += ReceiveSome(connection, window, shutSent);
                }

                var sequence = window.Unconsumed;
                var status = reader.Read(ref sequence, window.Final, ref visitor);
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

                if (window.Final && status != OperationStatus.Done && CanPause)
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

                if (window.Final)
                {
                    throw Lost(_state == PostcopyMachine.State.Listening
                        ? "the connection ended inside the PACKAGED device state, after its LISTEN and before its RUN; the source will not send the package again, so no resume can complete it (QEMU's destination fails here too)"
                        : "the source closed the connection before the end of the stream");
                }

                if (_endOfSections && !shutSent)
                {
                    Finish();
                    shutSent = true;
                }
            }

            if (!shutSent)
            {
                Finish();
            }

            // The source closes its preempt channel once it has our SHUT.
            _preempt.Stop(TimeSpan.FromSeconds(10));
            return ReceiveOutcome.Completed;
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
    private int ReceiveSome(Socket connection, ReceiveWindow window, bool shutSent)
    {
        var beforeListen = _state is PostcopyMachine.State.None or PostcopyMachine.State.Advise or PostcopyMachine.State.Discard;
        connection.ReceiveTimeout = shutSent ? 10_000
            : beforeListen && _options.StallTimeout != Timeout.InfiniteTimeSpan ? (int)Math.Clamp(_options.StallTimeout.TotalMilliseconds, 1, int.MaxValue)
            : 0;
        try
        {
            return window.ReceiveFrom(connection);
        }
        catch (SocketException e) when (shutSent && e.SocketErrorCode == SocketError.TimedOut)
        {
            window.MarkFinal();
            return 0;
        }
        catch (SocketException e) when (beforeListen && e.SocketErrorCode == SocketError.TimedOut)
        {
            throw Lost($"the source sent nothing for {_options.StallTimeout.TotalSeconds:0.#} s (stall timeout)", e);
        }
    }

    /// <summary>The stream has ended: stop the guest threads, check every page, and tell the source.</summary>
    private void Finish()
    {
        _preempt.Drain();
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

        _events.Completed(_blocks.Memories.Sum(b => b.PageCount), _blocks.Count, _devices.Count);
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
        _events.Paused(_blocks.MissingPages());
        return ReceiveOutcome.Paused;
    }

    private void ContinueOnResumedConnection(Socket connection)
    {
        Stats.SecondsPaused += _recovery.Resumed();
        _sender!.Attach(connection);
        _reader!.ContinueOnResumedChannel();
        MoveStatus(MigrationStatusDestinationMachine.Trigger.Reconnected, $"the source reconnected from {DestinationEvents.PeerName(connection)}");
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
        _events.PostcopyState(from, _state, what);
    }

    /// <summary>Writes what was received as a plain precopy stream (see <see cref="PrecopyStreamWriter"/>).</summary>
    public void WritePrecopyStream(Stream output)
    {
        // Not "the stream ended": a stream can end with pages lost, and its copy must not look complete.
        if (_status != MigrationStatusDestinationMachine.State.Completed)
        {
            throw new InvalidOperationException($"nothing complete to write: the migration is {MigrationStatusDestinationMachine.GetQemuName(_status)}");
        }

        PrecopyStreamWriter.Write(output, _configurationRecords, _ramSection, _blocks.Memories, _devices);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _blocks.StopFaulting();
        JoinThreads();
        _preempt.Stop(TimeSpan.Zero);
        _memory.Dispose();
        _uffd.Dispose();
        _stop.Dispose();
    }
}
