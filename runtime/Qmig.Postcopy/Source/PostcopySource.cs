using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qmig.Postcopy.Discard;
using Qmig.Wire;
using Qmig.Wire.Machines;
using Qmig.Wire.Writing;
using WireRamBlock = Qmig.Wire.Streaming.RamBlock;

namespace Qmig.Postcopy.Source;

/// <summary>
/// The source side of a QEMU postcopy migration, for any guest an <see cref="IMigrationGuest"/> describes:
/// a running VMM's, or a saved stream's. It sends the header and configuration, opens the return path,
/// advises postcopy, announces the RAM blocks, optionally sends pages for a while (precopy), discards on
/// the destination every page it cannot trust, sends the device state packaged with LISTEN and RUN, and
/// then pushes the remaining pages in the background while it serves the destination's page requests
/// ahead of them (on the preempt connection when there is one). It returns when the destination says
/// SHUT 0 after the end of the stream.
/// </summary>
/// <remarks>
/// <para>
/// The order of records and the destination's checks are those of QEMU 7.2 and 10.x destinations. Every
/// host page is sent at most once after LISTEN; a page asked for while it is already on its way is not
/// sent again. After a request the background stream continues right after the requested pages, where the
/// guest is likely to touch next.
/// </para>
/// <para>
/// The source's status moves through the generated <see cref="MigrationStatusSourceMachine"/>; each
/// command it sends moves a <see cref="PostcopyMachine"/> that mirrors the destination's postcopy state,
/// so a command the destination would refuse in its state is caught before it is sent.
/// </para>
/// <para>One instance migrates once. <see cref="Stats"/> may be read from another thread while it runs.</para>
/// </remarks>
public sealed partial class PostcopySource
{
    /// <summary>PING values: each marks a point the destination reached, so a destination that closes early says by its last PONG what it refused.</summary>
    private const uint PingReturnPathOpen = 1;
    private const uint PingAdvised = 2;
    private const uint PingPackageLoaded = 3;
    private const uint PingBlockListLoaded = 4;

    private readonly IMigrationGuest _guest;
    private readonly PostcopySourceOptions _options;
    private readonly ILogger _logger;
    private readonly SourceRamBlock[] _blocks;
    private readonly WireRamBlock[] _wireBlocks;
    private readonly int _targetPageSize;
    private readonly uint _ramSectionId;
    private readonly Channel<PendingRequest> _requests = Channel.CreateUnbounded<PendingRequest>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource _firstPong = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<uint> _shut = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _statusLock = new();
    private readonly long _start = Stopwatch.GetTimestamp();
    private CancellationTokenSource? _abort;
    private Exception? _failure;
    private MigrationStatusSourceMachine.State _status = MigrationStatusSourceMachine.Initial;
    private PostcopyMachine.State _destinationPostcopy = PostcopyMachine.Initial;
    private long _lastPong = -1;
    private int _started;
    private volatile bool _endOfStreamSent;

    // Where a request asks the background sender to continue: block index + 1 (0: no hint) and target page.
    private long _hintBlock;
    private long _hintPage;

    /// <summary>Prepares a migration of <paramref name="guest"/>; nothing is sent until <see cref="MigrateAsync(Stream, Func{CancellationToken, ValueTask{Stream}}?, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="PostcopySourceOptions.WriteTimeout"/> is neither positive nor infinite.</exception>
    /// <exception cref="ArgumentException">The guest's blocks cannot be migrated: a page size that is not a multiple of the target page size, a length that is not whole pages, a name that does not fit the wire, a name used twice.</exception>
    public PostcopySource(IMigrationGuest guest, PostcopySourceOptions? options = null, ILogger<PostcopySource>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(guest);
        _guest = guest;
        _options = options ?? new PostcopySourceOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        if (_options.WriteTimeout <= TimeSpan.Zero && _options.WriteTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.WriteTimeout, "the write timeout must be positive, or Timeout.InfiniteTimeSpan to wait for ever");
        }

        _targetPageSize = guest.TargetPageSize;
        if (_targetPageSize < 512 || (_targetPageSize & (_targetPageSize - 1)) != 0)
        {
            throw new ArgumentException($"the target page size {_targetPageSize} is not a power of two of at least 512", nameof(guest));
        }

        var blocks = guest.RamBlocks;
        _blocks = new SourceRamBlock[blocks.Count];
        _wireBlocks = new WireRamBlock[blocks.Count];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            if (block.PageSize < _targetPageSize || block.PageSize % _targetPageSize != 0)
            {
                throw new ArgumentException($"RAM block '{block.IdStr}' has page size {block.PageSize}, not a multiple of the target page size {_targetPageSize}", nameof(guest));
            }

            if (block.UsedLength < 0 || block.UsedLength % block.PageSize != 0)
            {
                throw new ArgumentException($"RAM block '{block.IdStr}' is {block.UsedLength} bytes, not a whole number of its {block.PageSize}-byte pages", nameof(guest));
            }

            if (!names.Add(block.IdStr))
            {
                throw new ArgumentException($"RAM block '{block.IdStr}' is listed twice", nameof(guest));
            }

            _blocks[i] = new SourceRamBlock(block.IdStr, block.UsedLength / _targetPageSize, block.PageSize / _targetPageSize);
            _wireBlocks[i] = new WireRamBlock(i, _blocks[i].Name.ToArray(), (ulong)block.UsedLength, (ulong)block.PageSize, null);
        }

        _ramSectionId = FreeSectionId(guest);
        Stats = new PostcopySourceStats { TotalPages = _blocks.Sum(b => b.PageCount) };
    }

    /// <summary>What the migration did so far; complete once it returns or fails.</summary>
    public PostcopySourceStats Stats { get; }

    /// <summary>The source's migration status now.</summary>
    public MigrationStatusSourceMachine.State Status
    {
        get
        {
            lock (_statusLock)
            {
                return _status;
            }
        }
    }

    /// <summary>Migrates over a connected socket; the socket stays open and belongs to the caller.</summary>
    public Task<PostcopySourceStats> MigrateAsync(Socket main, Func<CancellationToken, ValueTask<Stream>>? connectPreempt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(main);
        return MigrateOverNetworkStreamAsync(new NetworkStream(main, ownsSocket: false), connectPreempt, cancellationToken);
    }

    private async Task<PostcopySourceStats> MigrateOverNetworkStreamAsync(NetworkStream main, Func<CancellationToken, ValueTask<Stream>>? connectPreempt, CancellationToken cancellationToken)
    {
        await using (main.ConfigureAwait(false))
        {
            return await MigrateAsync(main, connectPreempt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Migrates over <paramref name="main"/>, a connected duplex stream: the migration stream goes out on it
    /// and the return path comes back on it. With <see cref="PostcopySourceOptions.Preempt"/>,
    /// <paramref name="connectPreempt"/> opens the second connection (to the same address) when the
    /// destination's version needs it; the engine closes that stream at the end. <paramref name="main"/>
    /// stays open and belongs to the caller.
    /// </summary>
    /// <returns>The statistics, once the destination said SHUT 0.</returns>
    /// <exception cref="PostcopySourceException">The migration failed; the message says why, in which status and after how many pages.</exception>
    public async Task<PostcopySourceStats> MigrateAsync(Stream main, Func<CancellationToken, ValueTask<Stream>>? connectPreempt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(main);
        if (_options.Preempt && connectPreempt is null)
        {
            throw new ArgumentException("postcopy-preempt needs a way to open the second connection", nameof(connectPreempt));
        }

        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("a PostcopySource migrates once; make a new one for another migration");
        }

        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _abort = abort;
        Task reader = Task.CompletedTask;
        Task preemptSender = Task.CompletedTask;
        Stream? preempt = null;
        try
        {
            Move(MigrationStatusSourceMachine.Trigger.Migrate, "migrate");
            var channel = new PageChannel(main, _guest, Stats, isPreempt: false, _options.WriteTimeout);
            if (_options.Preempt && ConnectsPreemptWithMain(main))
            {
                preempt = await connectPreempt!(abort.Token).ConfigureAwait(false);
            }

            reader = StartReturnPathReader(main, abort.Token);
            SendPreamble(channel.Writer);
            await channel.FlushAsync(abort.Token).ConfigureAwait(false);
            Move(MigrationStatusSourceMachine.Trigger.SetupDone, "return path open");
            if (_options.Preempt && preempt is null)
            {
                preempt = await ConnectPreemptAfterFirstPongAsync(connectPreempt!, abort.Token).ConfigureAwait(false);
            }

            SendAdviseAndBlockList(channel.Writer);
            await channel.FlushAsync(abort.Token).ConfigureAwait(false);
            await PrecopyAsync(channel, abort.Token).ConfigureAwait(false);
            _guest.DirtyPages?.StopGuest();
            SyncDirtyPages();
            if (_options.SendSwitchoverStart)
            {
                channel.Writer.Command(MigCmd.SwitchoverStart);
            }

            SendDiscards(channel.Writer);
            SendPackage(channel.Writer);
            channel.Writer.ForgetCurrentBlock();
            Move(MigrationStatusSourceMachine.Trigger.PostcopyStart, "package sent");
            await channel.FlushAsync(abort.Token).ConfigureAwait(false);
            Log.PostcopyStarted(_logger, Stats.PrecopyPages, Stats.Discards.Pages);

            PageChannel? preemptChannel = null;
            if (preempt is not null)
            {
                preemptChannel = new PageChannel(preempt, _guest, Stats, isPreempt: true, _options.WriteTimeout);
                preemptSender = Task.Run(() => ServeRequestsOnPreemptAsync(preemptChannel, abort.Token), CancellationToken.None);
            }

            await SendBackgroundAsync(channel, serveRequests: preemptChannel is null, abort.Token).ConfigureAwait(false);
            _requests.Writer.TryComplete();
            await preemptSender.ConfigureAwait(false);
            SendEnd(channel.Writer);
            _endOfStreamSent = true;
            await channel.FlushAsync(abort.Token).ConfigureAwait(false);
            Log.StreamEnded(_logger, Stats.PagesSent);

            var status = await _shut.Task.WaitAsync(_options.ShutTimeout, abort.Token).ConfigureAwait(false);
            if (status != 0)
            {
                throw Failure($"the destination ended with SHUT {status} (an error) after the end of the stream");
            }

            Move(MigrationStatusSourceMachine.Trigger.Complete, "SHUT 0");
            return Stats;
        }
        catch (Exception e)
        {
            var failure = Volatile.Read(ref _failure) ?? e;
            await abort.CancelAsync().ConfigureAwait(false);
            var error = Describe(failure);
            lock (_statusLock)
            {
                MigrationStatusSourceMachine.TryFire(ref _status, MigrationStatusSourceMachine.Trigger.Fail);
                Stats.EnterStatus(_status);
            }

            Log.MigrationFailed(_logger, error.Message);
            throw error;
        }
        finally
        {
            await abort.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(reader, preemptSender).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            if (preempt is not null)
            {
                await preempt.DisposeAsync().ConfigureAwait(false);
            }

            _abort = null;
        }
    }

    /// <summary>Header, configuration, OPEN_RETURN_PATH and the first PING.</summary>
    private void SendPreamble(MigrationStreamWriter writer)
    {
        writer.FileHeader();
        writer.Raw(_guest.ConfigurationRecord.Span);
        writer.Command(MigCmd.OpenReturnPath);
        writer.Ping(PingReturnPathOpen);
    }

    /// <summary>
    /// Whether the preempt connection opens before the main stream's first byte. A 7.2 destination needs
    /// that (it reads nothing before both connections are there); a 10.x destination takes it too on a
    /// plain connection, because it accepts connections in the order they came and takes the first as
    /// the main one. Under TLS a 10.x destination tells them apart only once each handshake is done, so
    /// there the preempt connection waits for the first PONG.
    /// </summary>
    private bool ConnectsPreemptWithMain(Stream main) => _options.PreemptOrder switch
    {
        PreemptConnectOrder.WithMainConnection => true,
        PreemptConnectOrder.Auto => PlainSocket.Of(main) is not null,
        _ => false,
    };

    private async Task<Stream> ConnectPreemptAfterFirstPongAsync(Func<CancellationToken, ValueTask<Stream>> connect, CancellationToken cancellationToken)
    {
        if (_options.PreemptOrder == PreemptConnectOrder.AfterFirstPong)
        {
            await _firstPong.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Under TLS: a 7.2 destination reads nothing before the second connection, so no answer comes.
            await Task.WhenAny(_firstPong.Task, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return await connect(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POSTCOPY_ADVISE, the early-setup sections, and the RAM section's start with the block list.</summary>
    private void SendAdviseAndBlockList(MigrationStreamWriter writer)
    {
        ulong pageSizeSummary = 0;
        foreach (var block in _guest.RamBlocks)
        {
            pageSizeSummary |= (uint)block.PageSize;
        }

        MoveDestination(PostcopyMachine.Trigger.Advise, "POSTCOPY_ADVISE");
        writer.PostcopyAdvise(pageSizeSummary, (ulong)_targetPageSize);
        writer.Ping(PingAdvised);
        foreach (var section in _guest.EarlySetupSections)
        {
            writer.Raw(section.Span);
        }

        writer.SectionStart(_ramSectionId, "ram", 0, 4);
        writer.RamBlockList(_guest.RamBlocks
            .Select(b => (b.IdStr, (ulong)b.UsedLength, b.PageSize == _options.HostPageSize ? (ulong?)null : (ulong)b.PageSize))
            .ToArray());
        writer.RamEos();
        Footer(writer);
        writer.Ping(PingBlockListLoaded);
    }

    private void Footer(MigrationStreamWriter writer)
    {
        if (_options.SectionFooters)
        {
            writer.Footer(_ramSectionId);
        }
    }

    /// <summary>Pages before the switch: for a guest that runs, passes over its dirty pages with a sync after each.</summary>
    private async Task PrecopyAsync(PageChannel channel, CancellationToken cancellationToken)
    {
        if (_options.PrecopyDuration <= TimeSpan.Zero)
        {
            return;
        }

        var dirty = _guest.DirtyPages;
        dirty?.StartTracking();
        var until = Stopwatch.GetTimestamp() + (long)(_options.PrecopyDuration.TotalSeconds * Stopwatch.Frequency);
        var phaseStartBytes = Stats.MainChannelBytes;
        var phaseStart = Stopwatch.GetTimestamp();
        var rounds = 0;
        var pagesBeforeRound = 0L;
        int block = 0;
        long page = 0;
        channel.Writer.SectionPart(_ramSectionId);
        while (Stopwatch.GetTimestamp() < until)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!FindNextDirty(ref block, ref page, wrap: false))
            {
                rounds++;
                if (dirty is null || rounds >= _options.MaxPrecopyRounds)
                {
                    break;
                }

                if (Stats.PrecopyPages == pagesBeforeRound)
                {
                    // Nothing was dirty: give the guest time to write before syncing again, rather than spin on syncs.
                    await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
                }

                SyncDirtyPages();
                pagesBeforeRound = Stats.PrecopyPages;
                (block, page) = (0, 0);
                continue;
            }

            var run = ClaimRun(block, page);
            if (run > 0)
            {
                channel.WritePages(_blocks[block], block, page, run, PagePhase.Precopy);
            }

            page += Math.Max(run, _blocks[block].HostPageTargetPages);
            if (channel.Buffered >= PageChannel.FlushThreshold)
            {
                await channel.FlushAsync(cancellationToken).ConfigureAwait(false);
                await ThrottleAsync(phaseStart, phaseStartBytes, serveRequests: false, cancellationToken).ConfigureAwait(false);
            }
        }

        channel.Writer.RamEos();
        Footer(channel.Writer);
        await channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        Log.PrecopyDone(_logger, Stats.PrecopyPages, rounds);
    }

    private void SyncDirtyPages()
    {
        if (_guest.DirtyPages is { } dirty)
        {
            for (var i = 0; i < _blocks.Length; i++)
            {
                dirty.Sync(i, _blocks[i].Dirty);
            }
        }
    }

    /// <summary>
    /// POSTCOPY_RAM_DISCARD for every page the destination may not keep: sent and dirtied since (widened to
    /// host pages), and never sent. A page never sent can still be present there: a precopy write to one
    /// page of an anonymous-memory region can populate the whole transparent huge page around it, and a
    /// page placed after LISTEN onto a present one fails the migration. A destination that gets no discard
    /// before LISTEN refuses RUN, so with every page sent and clean the first one is discarded and sent again.
    /// </summary>
    private void SendDiscards(MigrationStreamWriter writer)
    {
        var sink = new StateCheckingDiscardSink(this, new DiscardCommandWriter(writer.Output));
        var summary = _options.SuppressStaleDiscardsForTesting ? default : PostcopyDiscard.Send(_blocks, (ulong)_targetPageSize, sink);
        summary += DiscardNeverSent(sink);
        if (summary.Commands == 0)
        {
            var first = Array.FindIndex(_blocks, b => b.PageCount > 0);
            if (first < 0)
            {
                throw new InvalidOperationException("the guest has no RAM to migrate");
            }

            var block = _blocks[first];
            block.Dirty.SetRange(0, block.HostPageTargetPages);
            sink.WriteDiscard(block.Name, [(0UL, (ulong)block.HostPageTargetPages * (ulong)_targetPageSize)]);
            summary = new DiscardSummary(1, 1, block.HostPageTargetPages);
        }

        Stats.Discards = summary;
    }

    private DiscardSummary DiscardNeverSent(IDiscardCommandSink sink)
    {
        DiscardSummary total = default;
        var batch = new (ulong StartBytes, ulong LengthBytes)[PostcopyDiscard.MaxDiscardsPerCommand];
        foreach (var block in _blocks)
        {
            var pending = 0;
            long page = 0;
            while (page < block.PageCount)
            {
                // Runs of pages never sent; precopy sends whole host pages, so these are whole host pages too.
                while (page < block.PageCount && block.Sent.Test(page))
                {
                    page++;
                }

                if (page >= block.PageCount)
                {
                    break;
                }

                var start = page;
                while (page < block.PageCount && !block.Sent.Test(page))
                {
                    page++;
                }

                batch[pending++] = ((ulong)start * (ulong)_targetPageSize, (ulong)(page - start) * (ulong)_targetPageSize);
                total += new DiscardSummary(0, 1, page - start);
                if (pending == batch.Length)
                {
                    sink.WriteDiscard(block.Name, batch);
                    total += new DiscardSummary(1, 0, 0);
                    pending = 0;
                }
            }

            if (pending > 0)
            {
                sink.WriteDiscard(block.Name, batch.AsSpan(0, pending));
                total += new DiscardSummary(1, 0, 0);
            }
        }

        return total;
    }

    /// <summary>PACKAGED { LISTEN, the device sections, PING, RUN }.</summary>
    private void SendPackage(MigrationStreamWriter writer)
    {
        var package = new ArrayBufferWriter<byte>(64 << 10);
        var inner = new MigrationStreamWriter(package, _targetPageSize);
        MoveDestination(PostcopyMachine.Trigger.Listen, "POSTCOPY_LISTEN");
        inner.Command(MigCmd.PostcopyListen);
        foreach (var section in _guest.DeviceSections)
        {
            inner.Raw(section.Span);
        }

        inner.Ping(PingPackageLoaded);
        MoveDestination(PostcopyMachine.Trigger.Run, "POSTCOPY_RUN");
        inner.Command(MigCmd.PostcopyRun);
        writer.Packaged(package.WrittenSpan);
        Stats.PackageBytes = package.WrittenCount;
    }

    /// <summary>RAM SECTION_END with its EOS and footer, then the end of the stream. No vmdesc: a postcopy stream has none.</summary>
    private void SendEnd(MigrationStreamWriter writer)
    {
        writer.SectionPart(_ramSectionId, end: true);
        writer.RamEos();
        Footer(writer);
        writer.EndOfSections();
    }

    /// <summary>Every page still to send, in address order from wherever the last request pointed; requests first when they share the channel.</summary>
    private async Task SendBackgroundAsync(PageChannel channel, bool serveRequests, CancellationToken cancellationToken)
    {
        var phaseStartBytes = Stats.MainChannelBytes;
        var phaseStart = Stopwatch.GetTimestamp();
        int block = 0;
        long page = 0;
        channel.Writer.SectionPart(_ramSectionId);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (serveRequests && ServeQueuedRequests(channel))
            {
                await channel.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            TakeHint(ref block, ref page);
            if (!FindNextDirty(ref block, ref page, wrap: true))
            {
                break;
            }

            var run = ClaimRun(block, page);
            if (run > 0)
            {
                channel.WritePages(_blocks[block], block, page, run, PagePhase.Background);
            }

            page += Math.Max(run, _blocks[block].HostPageTargetPages);
            if (channel.Buffered >= PageChannel.FlushThreshold)
            {
                await channel.FlushAsync(cancellationToken).ConfigureAwait(false);
                await ThrottleAsync(phaseStart, phaseStartBytes, serveRequests, cancellationToken).ConfigureAwait(false);
            }
        }

        channel.Writer.RamEos();
        Footer(channel.Writer);
    }

    /// <summary>Requested pages on the preempt connection, each batch flushed as soon as the queue is empty; EOS at the end (QEMU 7.2's preempt thread waits for it).</summary>
    private async Task ServeRequestsOnPreemptAsync(PageChannel channel, CancellationToken cancellationToken)
    {
        try
        {
            while (await _requests.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ServeQueuedRequests(channel);
                await channel.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            channel.Writer.RamEos();
            await channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (WriteStalledException e)
        {
            Fail(Failure(e.Message, e));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            Fail(Failure($"writing to the preempt connection failed: {e.Message}", e));
        }
    }

    /// <summary>Writes the pages of every queued request that are still unsent; true when any request was taken.</summary>
    private bool ServeQueuedRequests(PageChannel channel)
    {
        var any = false;
        while (_requests.Reader.TryRead(out var request))
        {
            any = true;
            var block = _blocks[request.BlockIndex];
            var hostPage = block.HostPageTargetPages;
            var sent = false;
            for (var page = request.FirstPage; page < request.EndPage; page += hostPage)
            {
                if (TryClaim(request.BlockIndex, page))
                {
                    channel.WritePages(block, request.BlockIndex, page, hostPage, PagePhase.Requested);
                    sent = true;
                }
            }

            Stats.CountRequest(alreadySent: !sent);
            if (sent)
            {
                channel.RequestServed(request.Timestamp);
            }

            Log.RequestServed(_logger, block.NameText, request.FirstPage, request.EndPage - request.FirstPage, sent);
            if (request.EndPage < block.PageCount)
            {
                Volatile.Write(ref _hintPage, request.EndPage);
                Volatile.Write(ref _hintBlock, request.BlockIndex + 1);
            }
        }

        return any;
    }

    private void TakeHint(ref int block, ref long page)
    {
        var hint = Interlocked.Exchange(ref _hintBlock, 0);
        if (hint != 0)
        {
            block = (int)hint - 1;
            page = Volatile.Read(ref _hintPage);
        }
    }

    /// <summary>Holds background pages back to <see cref="PostcopySourceOptions.MaxBandwidth"/>, but not a queued request.</summary>
    private async Task ThrottleAsync(long phaseStart, long phaseStartBytes, bool serveRequests, CancellationToken cancellationToken)
    {
        if (_options.MaxBandwidth <= 0)
        {
            return;
        }

        var bytes = Stats.MainChannelBytes - phaseStartBytes;
        var due = phaseStart + (long)(bytes / (double)_options.MaxBandwidth * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < due)
        {
            if (serveRequests && _requests.Reader.TryPeek(out _))
            {
                return;
            }

            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            await Task.Delay(wait < TimeSpan.FromMilliseconds(5) ? wait : TimeSpan.FromMilliseconds(5), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The next host page still to send at or after (block, page), moving on to later blocks and, with
    /// <paramref name="wrap"/>, round to the start once; aligned to its host page.
    /// </summary>
    private bool FindNextDirty(ref int block, ref long page, bool wrap)
    {
        for (var index = block; index < _blocks.Length; index++)
        {
            if (Found(index, index == block ? page : 0, ref block, ref page))
            {
                return true;
            }
        }

        for (var index = 0; wrap && index <= block && index < _blocks.Length; index++)
        {
            if (Found(index, 0, ref block, ref page))
            {
                return true;
            }
        }

        return false;

        bool Found(int index, long from, ref int block, ref long page)
        {
            var found = _blocks[index].Dirty.FindNextSet(from);
            if (found < 0)
            {
                return false;
            }

            block = index;
            page = found - (found % _blocks[index].HostPageTargetPages);
            return true;
        }
    }

    /// <summary>Takes the host page at <paramref name="page"/> for sending, once: clears its dirty bits and marks it sent. False when it was not dirty (sent already, or being sent).</summary>
    /// <summary>
    /// Claims the host pages from <paramref name="page"/> on while they are still to send, up to a flush's
    /// worth (one host page at least): the run the background stream reads and writes at once. Returns its
    /// length in target pages, 0 when the first was already taken.
    /// </summary>
    private int ClaimRun(int blockIndex, long page)
    {
        var block = _blocks[blockIndex];
        var limit = Math.Max(block.HostPageTargetPages, PageChannel.FlushThreshold / _targetPageSize);
        var run = 0;
        while (run < limit && page + run < block.PageCount && TryClaim(blockIndex, page + run))
        {
            run += block.HostPageTargetPages;
        }

        return run;
    }

    private bool TryClaim(int blockIndex, long page)
    {
        var block = _blocks[blockIndex];
        if (!block.Dirty.TestAndClear(page))
        {
            return false;
        }

        if (block.HostPageTargetPages > 1)
        {
            block.Dirty.ClearRange(page + 1, block.HostPageTargetPages - 1);
        }

        block.Sent.SetRange(page, block.HostPageTargetPages);
        return true;
    }

    private void Move(MigrationStatusSourceMachine.Trigger trigger, string what)
    {
        lock (_statusLock)
        {
            var from = _status;
            if (!MigrationStatusSourceMachine.TryFire(ref _status, trigger))
            {
                throw new InvalidOperationException($"{what} is not allowed in migration status {MigrationStatusSourceMachine.GetQemuName(from)}");
            }

            Stats.EnterStatus(_status);
            Log.StatusChanged(_logger, MigrationStatusSourceMachine.GetQemuName(from), MigrationStatusSourceMachine.GetQemuName(_status), what);
        }
    }

    private void MoveDestination(PostcopyMachine.Trigger trigger, string command)
    {
        var from = _destinationPostcopy;
        if (!PostcopyMachine.TryFire(ref _destinationPostcopy, trigger))
        {
            throw new InvalidOperationException($"{command} would reach the destination in postcopy state {PostcopyMachine.GetQemuName(from)}, which refuses it");
        }
    }

    /// <summary>An unused section id for the RAM section: device sections keep the ids of the stream they came from.</summary>
    private static uint FreeSectionId(IMigrationGuest guest)
    {
        uint max = 0;
        foreach (var section in guest.EarlySetupSections.Concat(guest.DeviceSections))
        {
            var bytes = section.Span;
            if (bytes.Length >= 5)
            {
                max = Math.Max(max, BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(1)));
            }
        }

        return max + 1;
    }

    private readonly record struct PendingRequest(int BlockIndex, long FirstPage, long EndPage, long Timestamp);

    /// <summary>Moves the mirrored destination postcopy state for each discard command before it is written.</summary>
    private sealed class StateCheckingDiscardSink(PostcopySource source, IDiscardCommandSink inner) : IDiscardCommandSink
    {
        public void WriteDiscard(ReadOnlySpan<byte> blockName, ReadOnlySpan<(ulong StartBytes, ulong LengthBytes)> ranges)
        {
            source.MoveDestination(PostcopyMachine.Trigger.RamDiscard, "POSTCOPY_RAM_DISCARD");
            inner.WriteDiscard(blockName, ranges);
        }
    }
}
