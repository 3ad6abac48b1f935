using System.Buffers;
using System.Net.Sockets;
using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The postcopy-preempt channel (QEMU 7.1+, capability <c>postcopy-preempt</c>): a second connection
/// from the source on which it sends the pages our vCPUs asked for, as bare RAM records, so that they
/// never wait behind background pages queued on the main channel. 7.x ends it with EOS.
/// </summary>
public sealed partial class PostcopyDestination
{
    /// <summary>How long the end of the main stream waits for requested pages still in flight on the preempt channel.</summary>
    private static readonly TimeSpan PreemptDrainTimeout = TimeSpan.FromSeconds(10);

    private readonly ManualResetEventSlim _listening = new();
    private readonly Lock _placementGate = new();
    private readonly Lock _preemptGate = new();
    private Socket? _preemptChannel;
    private Thread? _preemptThread;
    private int _preemptGeneration;
    private bool _preemptClosed;
    private Exception? _preemptError;
    private long _preemptBytes;

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
        lock (_preemptGate)
        {
            if (_preemptClosed)
            {
                // QEMU 10.x opens a new preempt channel when it resumes, and the migration may have
                // completed on the main channel before it arrives: nothing is left to read on it.
                channel.Dispose();
                _options.Log?.WriteLine("postcopy-preempt channel arrived after the migration ended; closed");
                return;
            }

            int generation;
            lock (_linkGate)
            {
                generation = _connectionGeneration;
            }

            if (_preemptThread is not null)
            {
                if (_preemptThread.IsAlive && _preemptGeneration == generation)
                {
                    // The source opens one preempt channel per main connection: a second one while the
                    // first is still read is not the source's, and must not replace it.
                    _options.Log?.WriteLine($"an unexpected second preempt channel from {PeerName(channel)} was closed; the migration goes on");
                    channel.Dispose();
                    return;
                }

                // The old channel broke, or belongs to a main connection that broke and was resumed;
                // make sure its thread is gone first.
                _preemptChannel!.Dispose();
                _preemptThread.Join();
                _preemptAssembly.Reset();
            }

            if (channel.ProtocolType == ProtocolType.Tcp)
            {
                channel.NoDelay = true;
            }

            var thread = new Thread(() => RunPreemptChannel(channel, generation)) { IsBackground = true, Name = "qmig preempt channel" };
            thread.Start();

            // Published only once started: the main thread may join it as soon as it can see it.
            _preemptChannel = channel;
            _preemptThread = thread;
            _preemptGeneration = generation;
        }

        _options.Log?.WriteLine($"postcopy-preempt channel from {PeerName(channel)}");
    }

    private void RunPreemptChannel(Socket channel, int generation)
    {
        var window = new ReceiveWindow(1 << 20);
        MigrationStreamReader? reader = null;
        var visitor = new PreemptVisitor(this);
        try
        {
            while (true)
            {
                if (!window.Final)
                {
                    Interlocked.Add(ref _preemptBytes, window.ReceiveFrom(channel));
                }

                if (reader is null)
                {
                    if (window.Final && window.Unconsumed.IsEmpty)
                    {
                        return;
                    }

                    // Pages come on this channel only in postcopy, and LISTEN follows the block list, so
                    // once LISTEN has been read the blocks its records address are all known.
                    WaitHandle.WaitAny([_listening.WaitHandle, _stop.Token.WaitHandle]);
                    if (_stop.IsCancellationRequested)
                    {
                        return;
                    }

                    reader = new MigrationStreamReader(new MigrationReaderOptions
                    {
                        PreemptChannelBlocks = _blocks.Select(b => b.Wire).ToArray(),
                        TargetPageSize = Environment.SystemPageSize,
                    });
                }

                var sequence = window.Unconsumed;
                var status = reader.Read(ref sequence, window.Final, ref visitor);
                window.Consumed(sequence);
                if (status == OperationStatus.InvalidData)
                {
                    throw Lost($"the preempt channel is invalid: {reader.Error}");
                }

                if (status == OperationStatus.Done)
                {
                    // QEMU 7.x ends this channel with EOS at the end of the migration; 10.x closes it
                    // after our SHUT, which follows the main stream's end. Closed at a record boundary
                    // without EOS before that end, the link broke (a paused source closes both).
                    if (_options.Recover && !visitor.SawEndOfStream && !Volatile.Read(ref _endOfSections) && !PreemptChannelStopped)
                    {
                        OnPreemptChannelBroken(generation, new IOException("the source closed the preempt channel before the end of the main stream"));
                    }

                    return;
                }

                if (window.Final)
                {
                    if (_options.Recover)
                    {
                        // The link broke under a record; the source sends its page again after resuming.
                        OnPreemptChannelBroken(generation, new IOException("the source closed the preempt channel in the middle of a page"));
                        return;
                    }

                    throw Lost("the source closed the preempt channel in the middle of a page");
                }
            }
        }
        catch (Exception e) when (_options.Recover && e is SocketException or IOException or ObjectDisposedException)
        {
            // A broken preempt channel pauses the migration like a broken main one, unless it was
            // closed here because the migration is over.
            if (!_stop.IsCancellationRequested && !PreemptChannelStopped)
            {
                OnPreemptChannelBroken(generation, e);
            }
        }
        catch (Exception e) when (!_stop.IsCancellationRequested)
        {
            _preemptError = e;
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Stopping closed the socket under the read.
        }
    }

    /// <summary>A page from the preempt channel: someone asked for it, so it goes in at once.</summary>
    private void OnPreemptPage(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (!ram.IsPage && !ram.IsZero)
        {
            if ((ram.Flags & RamSaveFlag.Eos) != 0)
            {
                return;
            }

            throw Lost($"RAM record {ram.Flags} at offset {record.Offset} of the preempt channel is not supported");
        }

        var memory = _blocks[block!.Index].Memory;
        if (ram.IsZero && ram.Fill != 0)
        {
            throw Lost($"a zero-page record at offset {record.Offset} of the preempt channel fills with 0x{ram.Fill:x2}; QEMU only sends 0");
        }

        lock (_placementGate)
        {
            Stats.PreemptChannelPages++;
        }

        var page = ram.IsPage ? ram.Page : ZeroPage;
        if (memory.PageSize != page.Length)
        {
            PlaceHugePagePiece(_preemptAssembly, memory, ram.Offset, page, record.Offset);
            return;
        }

        var placement = memory.PlacePage(ram.Offset, page);
        RecordPlaced(RequestKey(memory, ram.Offset), placement.PagesAlreadyPresent);
    }

    /// <summary>
    /// At the end of the main stream, requested pages may still be on their way on the preempt
    /// channel (the source wrote them before its EOF, but they are read by another thread): wait
    /// until every page is here, the channel has ended, or the drain timeout has passed.
    /// </summary>
    private void DrainPreemptChannel()
    {
        Thread? thread;
        lock (_preemptGate)
        {
            thread = _preemptThread;
        }

        if (thread is null)
        {
            return;
        }

        // Each check counts every page's state, so check every 10 ms, not in a spin; the wait ends
        // at once when the channel's thread does.
        var deadline = DateTime.UtcNow + PreemptDrainTimeout;
        while (MissingPages() > 0 && DateTime.UtcNow < deadline && !thread.Join(10))
        {
        }

        ThrowIfPreemptChannelFailed();
    }

    private void ThrowIfPreemptChannelFailed()
    {
        if (_preemptError is { } error)
        {
            throw error as DestinationException ?? Lost($"the preempt channel failed: {error.Message}", error);
        }
    }

    /// <summary>
    /// Closes the preempt channel (which ends its read) and waits for its thread; a channel that
    /// arrives after this is closed at once.
    /// </summary>
    /// <summary>Read without the gate: a channel being replaced is joined while the gate is held.</summary>
    private bool PreemptChannelStopped => Volatile.Read(ref _preemptClosed);

    private void StopPreemptChannel(TimeSpan grace)
    {
        Thread? thread;
        Socket? channel;
        lock (_preemptGate)
        {
            _preemptClosed = true;
            thread = _preemptThread;
            channel = _preemptChannel;
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

        Stats.BytesReceived += Interlocked.Exchange(ref _preemptBytes, 0);
    }

    private long MissingPages() => _blocks.Sum(b => b.Memory.PageCount - b.Memory.States.CountByState().Received);

    /// <summary>Hands the preempt channel's records to the destination; only RAM records may come.</summary>
    private sealed class PreemptVisitor(PostcopyDestination destination) : IMigrationVisitor
    {
        /// <summary>The channel ended with EOS, as QEMU 7.x ends it when the migration is over.</summary>
        public bool SawEndOfStream { get; private set; }

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            SawEndOfStream |= (ram.Flags & RamSaveFlag.Eos) != 0;
            destination.OnPreemptPage(record, ram, block);
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
            destination.Lost($"{record.Kind} at offset {record.Offset} of the preempt channel, which carries only RAM records");
    }
}
