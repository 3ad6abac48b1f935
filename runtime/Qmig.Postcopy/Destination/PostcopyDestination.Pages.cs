using System.Diagnostics;
using Qmig.Linux;
using Qmig.Linux.Memory;
using Qmig.Wire;
using Qmig.Linux.Machines;
using Qmig.Wire.Machines;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

public sealed partial class PostcopyDestination
{
    /// <summary>A run of this size costs one UFFDIO_COPY (system call, mmap lock, wake) instead of 16.</summary>
    private const int BackgroundRunBytes = 64 << 10;

    private static readonly byte[] ZeroPage = new byte[Environment.SystemPageSize];

    private readonly byte[] _run = GC.AllocateArray<byte>(BackgroundRunBytes, pinned: true);
    private readonly HugePageAssembly _mainAssembly = new();
    private readonly HugePageAssembly _preemptAssembly = new();
    private RamBlockMemory? _runBlock;
    private ulong _runOffset;
    private int _runLength;

    private bool Postcopy => _state is PostcopyMachine.State.Listening or PostcopyMachine.State.Running;

    private void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (!ram.IsPage && !ram.IsZero)
        {
            if ((ram.Flags & RamSaveFlag.MemSize) != 0 && ram.Offset > (ulong)_options.MaxGuestRam)
            {
                // Checked on the list's announced total, before its first block is mapped.
                throw Lost($"the source announces 0x{ram.Offset:x} bytes ({ram.Offset >> 20} MiB) of guest RAM at offset {record.Offset}, more than the {_options.MaxGuestRam >> 20} MiB allowed (--max-guest-ram)");
            }

            if ((ram.Flags & (RamSaveFlag.Eos | RamSaveFlag.MemSize | RamSaveFlag.MultifdFlush)) != 0 || ram.Flags == 0)
            {
                return;
            }

            throw Lost($"RAM record {ram.Flags} at offset {record.Offset} is not supported (XBZRLE and compression are off in a postcopy migration)");
        }

        var memory = _blocks[block!.Index].Memory;
        var offset = ram.Offset;
        var page = ram.IsPage ? ram.Page : ZeroPage;
        if (ram.IsZero && ram.Fill != 0)
        {
            throw Lost($"a zero-page record at offset {record.Offset} fills with 0x{ram.Fill:x2}; QEMU only sends 0");
        }

        if (!Postcopy)
        {
            memory.StoreUnregistered(offset, page);
            if (ram.IsZero)
            {
                Stats.PrecopyZeroPages++;
            }
            else
            {
                Stats.PrecopyPages++;
            }

            return;
        }

        if (memory.PageSize != page.Length)
        {
            PlaceHugePagePiece(_mainAssembly, memory, offset, page, record.Offset);
            return;
        }

        // A page is requested (by a fault, or ahead of one) exactly while its state says so; one bit
        // read per background page, no lookup in the fault clocks.
        if (memory.States.Get(memory.PageIndex(offset)) == PageMachine.State.Requested)
        {
            // A vCPU is waiting for exactly this page: place it now, ahead of any gathered run.
            RecordPlaced(RequestKey(memory, offset), memory.PlacePage(offset, page).PagesAlreadyPresent);
            return;
        }

        if (_runBlock != memory || _runOffset + (ulong)_runLength != offset || _runLength == _run.Length)
        {
            FlushBackgroundRun();
            _runBlock = memory;
            _runOffset = offset;
        }

        page.CopyTo(_run.AsSpan(_runLength));
        _runLength += page.Length;
    }

    /// <summary>
    /// A target page of a huge-page block in postcopy: gathered with the rest of its huge page,
    /// which is placed (one UFFDIO_COPY, waking whoever faulted on it) when its last target page is
    /// here. A whole huge page is already a large batch, so background and requested huge pages go
    /// the same way.
    /// </summary>
    private void PlaceHugePagePiece(HugePageAssembly assembly, RamBlockMemory memory, ulong offset, ReadOnlySpan<byte> page, long recordOffset)
    {
        if (!assembly.Add(memory, offset, page, out var start, out var hugePage, out var error))
        {
            if (error is not null)
            {
                throw Lost($"{error} (record at offset {recordOffset})");
            }

            return;
        }

        RecordPlaced(RequestKey(memory, start), memory.PlaceRun(start, hugePage).PagesAlreadyPresent);
    }

    /// <summary>Places the gathered background run; called whenever the socket has nothing more ready.</summary>
    private void FlushBackgroundRun()
    {
        if (_runLength == 0 || _runBlock is null)
        {
            return;
        }

        var alreadyPresent = _runBlock.PlaceRun(_runOffset, _run.AsSpan(0, _runLength)).PagesAlreadyPresent;
        var pageSize = (ulong)_runBlock.PageSize;
        // One lock for the run (up to 16 pages), not one a page.
        lock (_placementGate)
        {
            Stats.PostcopyDuplicatePages += alreadyPresent;
            for (var offset = _runOffset; offset < _runOffset + (ulong)_runLength; offset += pageSize)
            {
                CountPlaced(RequestKey(_runBlock, offset));
            }
        }

        _runLength = 0;
    }

    /// <summary>
    /// Counts a placed postcopy page, with its fault-to-placed time when a fault was waiting for it
    /// (and <paramref name="alreadyPresent"/> pages its placement found there already). Both
    /// channels place pages, so the counting is under one lock.
    /// </summary>
    private void RecordPlaced(long key, long alreadyPresent)
    {
        lock (_placementGate)
        {
            Stats.PostcopyDuplicatePages += alreadyPresent;
            CountPlaced(key);
        }
    }

    /// <summary>Only under <c>_placementGate</c> (see <see cref="RecordPlaced"/>).</summary>
    private void CountPlaced(long key)
    {
        var ahead = _requestedAhead.TryRemove(key, out _);
        if (_requestedAt.TryRemove(key, out var faultedAt))
        {
            var placedAt = Stopwatch.GetTimestamp();
            Stats.FaultToPlacedMicroseconds.Add(Stopwatch.GetElapsedTime(faultedAt, placedAt).TotalMicroseconds);
            Stats.RequestedPageTimes.Add((Stopwatch.GetElapsedTime(Stats.Started, faultedAt).TotalSeconds, Stopwatch.GetElapsedTime(Stats.Started, placedAt).TotalSeconds));
            Stats.PostcopyRequestedPages++;
            return;
        }

        if (ahead)
        {
            Stats.PostcopyAheadPages++;
            return;
        }

        Stats.PostcopyBackgroundPages++;
    }

    /// <summary>A requested page is known by its address in this process: unique across blocks, no lookup.</summary>
    private static long RequestKey(RamBlockMemory memory, ulong offset) => (long)(memory.BaseAddress + offset);

    private void StartFaultThread()
    {
        _faultThread = new Thread(RunFaultThread) { IsBackground = true, Name = "qmig fault thread" };
        _faultThread.Start();
    }

    /// <summary>Turns userfaults into page requests on the return path: QEMU's postcopy fault thread.</summary>
    private void RunFaultThread()
    {
        var events = new UffdEvent[64];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var count = _uffd.ReadEvents(events, 100, _stop.Token);
                for (var i = 0; i < count; i++)
                {
                    if (events[i].Kind != UffdEventKind.PageFault)
                    {
                        continue;
                    }

                    Interlocked.Increment(ref _faults);
                    var outcome = _memory.HandleFault(events[i]);
                    switch (outcome.Disposition)
                    {
                        case FaultDisposition.RequestPage:
                            RequestFaultedPage(outcome.Block!, outcome.Offset);
                            break;
                        case FaultDisposition.AlreadyRequested:
                            StartFaultClock(outcome.Block!, outcome.Offset);
                            break;
                        case FaultDisposition.OutsideGuestMemory:
                            throw new DestinationException($"a fault at 0x{events[i].Address:x} hit none of the RAM blocks");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _faultThreadError = e;
        }
        finally
        {
            Stats.Faults = Interlocked.Read(ref _faults);
        }
    }

    private long _faults;

    /// <summary>
    /// Requests a page a vCPU faulted on (already moved missing → requested), together with up to
    /// <see cref="DestinationOptions.RequestAhead"/> following pages that are still missing; each
    /// of those moves missing → requested here first, so no other fault asks for it again.
    /// </summary>
    private void RequestFaultedPage(RamBlockMemory block, ulong offset)
    {
        StartFaultClock(block, offset);
        var pageSize = (ulong)block.PageSize;
        var first = block.PageIndex(offset);
        var pages = 1L;
        while (pages <= _options.RequestAhead
            && first + pages < block.PageCount
            && block.States.TryApply(first + pages, PageMachine.Trigger.Fault).Applied)
        {
            _requestedAhead[RequestKey(block, offset + ((ulong)pages * pageSize))] = 0;
            pages++;
        }

        Stats.PagesRequestedAhead += pages - 1;
        // If the link is broken the request is dropped: the pages stay requested and are asked for
        // again when the source resumes.
        _sender!.RequestPages(block, offset, checked((uint)((ulong)pages * pageSize)));
    }

    /// <summary>
    /// Starts timing a vCPU's wait for a page: from the first fault on it, whether that fault sent
    /// the request or found the page already on its way (requested ahead, or by another vCPU).
    /// The page may have been placed between the fault and now (a background run flushed by the
    /// reader thread): that placement found no clock to stop, so the clock is taken away again
    /// rather than left running forever.
    /// </summary>
    private void StartFaultClock(RamBlockMemory block, ulong offset)
    {
        var key = RequestKey(block, offset);
        if (_requestedAt.TryAdd(key, Stopwatch.GetTimestamp())
            && block.States.Get(block.PageIndex(offset)) == PageMachine.State.Received)
        {
            _requestedAt.TryRemove(key, out _);
        }
    }

    /// <summary>Starts the stand-in vCPUs: threads that read guest memory the way a running guest would.</summary>
    private void StartGuest()
    {
        if (_options.Touch == TouchWorkload.None)
        {
            return;
        }

        var blocks = _blocks.Select(b => b.Memory).ToArray();
        for (var i = 0; i < Math.Max(1, _options.TouchThreads); i++)
        {
            var index = i;
            var thread = new Thread(() => TouchGuest(blocks, _options.Seed + index, index)) { IsBackground = true, Name = $"qmig vcpu {i}" };
            _guestThreads.Add(thread);
            thread.Start();
        }
    }

    /// <summary>
    /// A read of a mapped page takes well under a microsecond; one that takes longer than this
    /// waited for a userfault to be resolved, or for the kernel to map a page the memfd already
    /// held (the first touch of a precopy page), or lost its CPU to another thread.
    /// </summary>
    private static readonly long StallTicks = Stopwatch.Frequency / 100_000;

    private void TouchGuest(RamBlockMemory[] blocks, int seed, int threadIndex)
    {
        var random = new Random(seed);
        var totalPages = blocks.Sum(b => b.PageCount);
        // Sequential threads start at different places so that they fault on different pages.
        var cursor = totalPages * threadIndex / Math.Max(1, _options.TouchThreads);
        while (!_stop.IsCancellationRequested)
        {
            var page = _options.Touch == TouchWorkload.Random ? random.NextInt64(totalPages) : cursor++ % totalPages;
            foreach (var block in blocks)
            {
                if (page < block.PageCount)
                {
                    // Native code reads the word: a managed thread parked in a userfault would stall the GC.
                    var start = Stopwatch.GetTimestamp();
                    _ = FaultingMemory.ReadUInt64(block.BaseAddress + ((ulong)page * (ulong)block.PageSize));
                    var took = Stopwatch.GetTimestamp() - start;
                    if (took > StallTicks)
                    {
                        lock (Stats.VcpuStallMicroseconds)
                        {
                            Stats.VcpuStallMicroseconds.Add(took * 1e6 / Stopwatch.Frequency);
                        }
                    }

                    break;
                }

                page -= block.PageCount;
            }
        }
    }
}
