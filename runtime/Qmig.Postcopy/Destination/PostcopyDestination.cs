using System.Buffers;
using System.Collections.Concurrent;
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
/// One thread reads the socket and places pages: it is QEMU's listen thread from LISTEN on, so a
/// requested page is placed as soon as its record is parsed. Background pages are gathered into
/// contiguous runs and placed with one UFFDIO_COPY per run, at the latest when the socket has no
/// more bytes ready, so a faulting thread never waits for a run to fill. A fault thread turns
/// userfaults into page requests. Precopy pages go through the memfd (a page may be sent again and
/// must be replaced); from LISTEN on every page goes through userfaultfd.
/// </remarks>
public sealed partial class PostcopyDestination : IDisposable
{
    private const int ReceiveBufferSize = 8 << 20;

    private readonly DestinationOptions _options;
    private readonly Userfaultfd _uffd;
    private readonly GuestMemory _memory;
    private readonly List<(RamBlock Wire, RamBlockMemory Memory)> _blocks = [];
    private readonly List<byte[]> _configurationRecords = [];
    private readonly List<ReceivedDevice> _devices = [];
    private readonly ConcurrentDictionary<long, long> _requestedAt = new();

    /// <summary>Pages requested ahead of any fault, to count them apart from the background sender's when they arrive.</summary>
    private readonly ConcurrentDictionary<long, byte> _requestedAhead = new();
    private readonly CancellationTokenSource _stop = new();
    private MigrationStreamReader? _reader;
    private readonly List<Thread> _guestThreads = [];
    private ReturnPathSender? _sender;
    private Thread? _faultThread;
    private Exception? _faultThreadError;
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
    }

    public DestinationStats Stats { get; } = new();

    public PostcopyMachine.State State => _state;

    /// <summary>The RAM blocks in the order of the source's block list.</summary>
    public IReadOnlyList<RamBlockMemory> Blocks => _blocks.Select(b => b.Memory).ToArray();

    /// <summary>Device sections in the order they arrived (for a postcopy migration: the package's).</summary>
    public IReadOnlyList<ReceivedDevice> Devices => _devices;

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
            _sender = new ReturnPathSender(connection, _options.ReturnPathLog, OnReturnPathBroken);
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

        lock (_linkGate)
        {
            _connection = connection;
        }

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
                FlushBackgroundRun();
                ThrowIfFaultThreadFailed();
                ThrowIfPreemptChannelFailed();
                if (LinkError is { } broken && !_endOfSections)
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
            StopPreemptChannel(TimeSpan.FromSeconds(10));
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
        DrainPreemptChannel();
        // Checked before the guest threads are stopped: a thread faulting on a page that never came
        // would be joined forever. The failure's Abort wakes such threads.
        var missing = MissingPages();
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

        _options.Log?.WriteLine($"complete: {_blocks.Sum(b => b.Memory.PageCount)} pages in {_blocks.Count} RAM blocks, {_devices.Count} device sections");
    }

    private void Abort()
    {
        MarkFailed();
        _stop.Cancel();
        // Wakes guest threads blocked on pages that will never come, so they can see the stop.
        _memory.StopFaulting();
        JoinThreads();
        StopPreemptChannel(TimeSpan.Zero);
    }

    private void StopGuest()
    {
        _stop.Cancel();
        JoinThreads();
        ThrowIfFaultThreadFailed();
    }

    private void JoinThreads()
    {
        foreach (var thread in _guestThreads)
        {
            thread.Join();
        }

        _faultThread?.Join();
    }

    private void ThrowIfFaultThreadFailed()
    {
        if (_faultThreadError is { } error)
        {
            throw error switch
            {
                DestinationException lost => lost,
                System.Net.Sockets.SocketException or IOException or ObjectDisposedException =>
                    Lost($"the connection to the source failed while requesting a page ({error.Message})", error),
                _ => Lost($"the fault thread failed: {error.Message}", error),
            };
        }
    }

    private DestinationException Lost(string reason, Exception? inner = null)
    {
        var outstanding = MissingPages();
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
        _options.Log?.WriteLine($"postcopy: {PostcopyMachine.GetQemuName(from)} -> {PostcopyMachine.GetQemuName(_state)} ({what})");
    }

    /// <summary>Writes what was received as a plain precopy stream (see <see cref="PrecopyStreamWriter"/>).</summary>
    public void WritePrecopyStream(Stream output)
    {
        // Not "the stream ended": a stream can end with pages lost, and its copy must not look complete.
        if (_status != MigrationStatusDestinationMachine.State.Completed)
        {
            throw new InvalidOperationException($"nothing complete to write: the migration is {MigrationStatusDestinationMachine.GetQemuName(_status)}");
        }

        PrecopyStreamWriter.Write(output, _configurationRecords, _ramSection, _blocks.Select(b => b.Memory).ToArray(), _devices);
    }

    /// <summary>The peer's address for a log line; a connection handed over through a socket pair (a TLS bridge) has none of its own.</summary>
    private static string PeerName(Socket connection) =>
        connection.RemoteEndPoint?.ToString() is { Length: > 0 } remote ? remote : "a local socket (TLS, or passed in by the caller)";

    public void Dispose()
    {
        _stop.Cancel();
        _memory.StopFaulting();
        JoinThreads();
        StopPreemptChannel(TimeSpan.Zero);
        _memory.Dispose();
        _uffd.Dispose();
        _stop.Dispose();
    }
}
