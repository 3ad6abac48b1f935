using System.Buffers;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The postcopy-preempt channel (QEMU 7.1+, capability <c>postcopy-preempt</c>): a second connection
/// from the source on which it sends the pages our vCPUs asked for, as bare RAM records, so that they
/// never wait behind background pages queued on the main channel. 7.x ends it with EOS. It is read on
/// a thread of its own, which places each page the moment its record is parsed.
/// </summary>
internal sealed class PreemptChannel(
    ReceivedBlocks blocks,
    PagePlacer placer,
    LinkRecovery recovery,
    DestinationStats stats,
    bool recover,
    Func<bool> endOfSections,
    ILogger logger,
    MigrationLost lost,
    CancellationToken stop)
{
    /// <summary>How long the end of the main stream waits for requested pages still in flight on the preempt channel.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly ManualResetEventSlim _listening = new();
    private readonly Lock _gate = new();
    private Socket? _channel;
    private Thread? _thread;
    private int _generation;
    private bool _closed;
    private Exception? _error;
    private long _bytes;

    /// <summary>Set before <see cref="_listening"/> is, and read only after it is.</summary>
    private MigrationReaderOptions? _readerOptions;

    /// <summary>Read without the gate: a channel being replaced is joined while the gate is held.</summary>
    private bool Stopped => Volatile.Read(ref _closed);

    /// <summary>
    /// LISTEN was read: the block list is complete, so the records of a channel that came earlier
    /// (QEMU 7.2 opens it right after the main one) can be read now, with <paramref name="readerOptions"/>
    /// (the main stream reader's <see cref="MigrationStreamReader.PreemptChannelOptions"/>).
    /// </summary>
    public void Listening(MigrationReaderOptions readerOptions)
    {
        _readerOptions = readerOptions;
        _listening.Set();
    }

    /// <summary>
    /// Reads <paramref name="channel"/> as the migration's postcopy-preempt channel. With recovery a
    /// resumed source opens a new one after the new main one: it replaces the broken one (whose pages,
    /// if a record was cut off, the source sends again). A second channel while the current one is
    /// still read is closed.
    /// </summary>
    public void Attach(Socket channel)
    {
        lock (_gate)
        {
            if (_closed)
            {
                // QEMU 10.x opens a new preempt channel when it resumes, and the migration may have
                // completed on the main channel before it arrives: nothing is left to read on it.
                channel.Dispose();
                logger.PreemptChannelAfterEnd();
                return;
            }

            var generation = recovery.Generation;
            if (_thread is not null)
            {
                if (_thread.IsAlive && _generation == generation)
                {
                    // The source opens one preempt channel per main connection: a second one while the
                    // first is still read is not the source's, and must not replace it.
                    logger.UnexpectedPreemptChannel(channel);
                    channel.Dispose();
                    return;
                }

                // The old channel broke, or belongs to a main connection that broke and was resumed;
                // make sure its thread is gone first.
                _channel!.Dispose();
                _thread.Join();
                placer.ResetPreemptAssembly();
            }

            if (channel.ProtocolType == ProtocolType.Tcp)
            {
                channel.NoDelay = true;
            }

            var thread = new Thread(() => Run(channel, generation)) { IsBackground = true, Name = "qmig preempt channel" };
            thread.Start();

            // Published only once started: the main thread may join it as soon as it can see it.
            _channel = channel;
            _thread = thread;
            _generation = generation;
        }

        logger.PreemptChannelAttached(channel);
    }

    private void Run(Socket channel, int generation)
    {
        var window = new InputWindow(1 << 20);
        MigrationStreamReader? reader = null;
        var visitor = new Visitor(placer, lost);
        try
        {
            while (true)
            {
                if (!window.IsFinal)
                {
                    Interlocked.Add(ref _bytes, window.ReceiveFrom(channel));
                }

                if (reader is null)
                {
                    if (window.IsFinal && window.Unconsumed.IsEmpty)
                    {
                        return;
                    }

                    // Pages come on this channel only in postcopy, and LISTEN follows the block list, so
                    // once LISTEN has been read the blocks its records address are all known.
                    WaitHandle.WaitAny([_listening.WaitHandle, stop.WaitHandle]);
                    if (stop.IsCancellationRequested)
                    {
                        return;
                    }

                    reader = new MigrationStreamReader(_readerOptions);
                }

                var sequence = window.Unconsumed;
                var status = reader.Read(ref sequence, window.IsFinal, ref visitor);
                window.Consumed(sequence);
                if (status == OperationStatus.InvalidData)
                {
                    throw lost($"the preempt channel is invalid: {reader.Error}");
                }

                if (status == OperationStatus.Done)
                {
                    // QEMU 7.x ends this channel with EOS at the end of the migration; 10.x closes it
                    // after our SHUT, which follows the main stream's end. Closed at a record boundary
                    // without EOS before that end, the link broke (a paused source closes both).
                    if (recover && !visitor.SawEndOfStream && !endOfSections() && !Stopped)
                    {
                        recovery.OnPreemptChannelBroken(generation, new IOException("the source closed the preempt channel before the end of the main stream"));
                    }

                    return;
                }

                if (window.IsFinal)
                {
                    if (recover)
                    {
                        // The link broke under a record; the source sends its page again after resuming.
                        recovery.OnPreemptChannelBroken(generation, new IOException("the source closed the preempt channel in the middle of a page"));
                        return;
                    }

                    throw lost("the source closed the preempt channel in the middle of a page");
                }
            }
        }
        catch (Exception e) when (recover && e is SocketException or IOException or ObjectDisposedException)
        {
            // A broken preempt channel pauses the migration like a broken main one, unless it was
            // closed here because the migration is over.
            if (!stop.IsCancellationRequested && !Stopped)
            {
                recovery.OnPreemptChannelBroken(generation, e);
            }
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            Volatile.Write(ref _error, e);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopping closed the socket under the read.
        }
    }

    /// <summary>
    /// At the end of the main stream, requested pages may still be on their way on the preempt
    /// channel (the source wrote them before its EOF, but they are read by another thread): wait
    /// until every page is here, the channel has ended, or the drain timeout has passed.
    /// </summary>
    public void Drain(CancellationToken cancellation)
    {
        Thread? thread;
        lock (_gate)
        {
            thread = _thread;
        }

        if (thread is null)
        {
            return;
        }

        // Each check counts every page's state, so check every 10 ms, not in a spin; the wait ends
        // at once when the channel's thread does.
        var deadline = DateTime.UtcNow + DrainTimeout;
        while (blocks.MissingPages() > 0 && DateTime.UtcNow < deadline && !thread.Join(10) && !cancellation.IsCancellationRequested)
        {
        }

        ThrowIfFailed();
    }

    public void ThrowIfFailed()
    {
        if (Volatile.Read(ref _error) is { } error)
        {
            throw error as DestinationException ?? lost($"the preempt channel failed: {error.Message}", error);
        }
    }

    /// <summary>
    /// Closes the channel (which ends its read) if it has not ended within <paramref name="grace"/>
    /// and waits for its thread; a channel that arrives after this is closed at once.
    /// </summary>
    public void Stop(TimeSpan grace)
    {
        Thread? thread;
        Socket? channel;
        lock (_gate)
        {
            _closed = true;
            thread = _thread;
            channel = _channel;
        }

        if (thread is null)
        {
            return;
        }

        if (!thread.Join(grace))
        {
            channel!.Dispose();
            thread.Join();
        }

        stats.BytesReceived += Interlocked.Exchange(ref _bytes, 0);
    }

    /// <summary>Hands the channel's records to the placer; only RAM records may come.</summary>
    private sealed class Visitor(PagePlacer placer, MigrationLost lost) : IMigrationVisitor
    {
        /// <summary>The channel ended with EOS, as QEMU 7.x ends it when the migration is over.</summary>
        public bool SawEndOfStream { get; private set; }

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            SawEndOfStream |= (ram.Flags & RamSaveFlag.Eos) != 0;
            placer.PlacePreempt(record, ram, block);
        }

        public void OnFileHeader(in RecordInfo record, uint version) => throw Unexpected(record);

        public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => throw Unexpected(record);

        public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) => throw Unexpected(record);

        public void OnSectionHeader(in RecordInfo record, SectionInfo section) => throw Unexpected(record);

        public void OnRamBlock(in RecordInfo record, RamBlock block) => throw Unexpected(record);

        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) => throw Unexpected(record);

        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) => throw Unexpected(record);

        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => throw Unexpected(record);

        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) => throw Unexpected(record);

        public void OnSectionFooter(in RecordInfo record, SectionInfo section) => throw Unexpected(record);

        public void OnCommand(in RecordInfo record, in Command command) => throw Unexpected(record);

        public void OnEndOfSections(in RecordInfo record) => throw Unexpected(record);

        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => throw Unexpected(record);

        private DestinationException Unexpected(in RecordInfo record) =>
            lost($"{record.Kind} at offset {record.Offset} of the preempt channel, which carries only RAM records");
    }
}
