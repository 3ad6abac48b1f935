using Qmig.Linux.Machines;
using Qmig.Linux.Memory;
using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Puts received pages into guest memory. Before LISTEN a page goes through the memfd (precopy may
/// send it again, and a later copy must replace it). From LISTEN on every page goes in through
/// userfaultfd: a page a vCPU waits for at once; background pages gathered into contiguous runs
/// placed with one UFFDIO_COPY each, at the latest when the connection has no more bytes ready
/// (<see cref="FlushBackgroundRun"/>), so a faulting thread never waits for a run to fill. Huge
/// pages are assembled whole, one assembly per channel.
/// </summary>
/// <remarks>
/// The main channel's reader thread and the preempt channel's thread both place; counting a placed
/// page is under one lock. Nothing on the per-page path allocates.
/// </remarks>
internal sealed class PagePlacer(ReceivedBlocks blocks, DestinationStats stats, PageRequestClocks clocks, long maxGuestRam, MigrationLost lost)
{
    /// <summary>A run of this size costs one UFFDIO_COPY (system call, mmap lock, wake) instead of 16.</summary>
    private const int BackgroundRunBytes = 64 << 10;

    private static readonly byte[] ZeroPage = new byte[Environment.SystemPageSize];

    private readonly byte[] _run = GC.AllocateArray<byte>(BackgroundRunBytes, pinned: true);
    private readonly HugePageAssembly _mainAssembly = new();
    private readonly HugePageAssembly _preemptAssembly = new();
    private readonly Lock _countGate = new();
    private RamBlockMemory? _runBlock;
    private ulong _runOffset;
    private int _runLength;

    /// <summary>A RAM record of the main channel; <paramref name="postcopy"/> from LISTEN on.</summary>
    public void PlaceMain(in RecordInfo record, in RamRecord ram, RamBlock? block, bool postcopy)
    {
        if (!ram.IsPage && !ram.IsZero)
        {
            if ((ram.Flags & RamSaveFlag.MemSize) != 0 && ram.Offset > (ulong)maxGuestRam)
            {
                // Checked on the list's announced total, before its first block is mapped.
                throw lost($"the source announces 0x{ram.Offset:x} bytes ({ram.Offset >> 20} MiB) of guest RAM at offset {record.Offset}, more than the {maxGuestRam >> 20} MiB allowed (--max-guest-ram)");
            }

            if ((ram.Flags & (RamSaveFlag.Eos | RamSaveFlag.MemSize | RamSaveFlag.MultifdFlush)) != 0 || ram.Flags == 0)
            {
                return;
            }

            throw lost($"RAM record {ram.Flags} at offset {record.Offset} is not supported (XBZRLE and compression are off in a postcopy migration)");
        }

        var memory = blocks[block!.Index];
        var offset = ram.Offset;
        var page = ram.IsPage ? ram.Page : ZeroPage;
        if (ram.IsZero && ram.Fill != 0)
        {
            throw lost($"a zero-page record at offset {record.Offset} fills with 0x{ram.Fill:x2}; QEMU only sends 0");
        }

        if (!postcopy)
        {
            memory.StoreUnregistered(offset, page);
            if (ram.IsZero)
            {
                stats.PrecopyZeroPages++;
            }
            else
            {
                stats.PrecopyPages++;
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
            RecordPlaced(PageRequestClocks.Key(memory, offset), memory.PlacePage(offset, page).PagesAlreadyPresent);
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

    /// <summary>A page from the preempt channel: someone asked for it, so it goes in at once.</summary>
    public void PlacePreempt(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (!ram.IsPage && !ram.IsZero)
        {
            if ((ram.Flags & RamSaveFlag.Eos) != 0)
            {
                return;
            }

            throw lost($"RAM record {ram.Flags} at offset {record.Offset} of the preempt channel is not supported");
        }

        var memory = blocks[block!.Index];
        if (ram.IsZero && ram.Fill != 0)
        {
            throw lost($"a zero-page record at offset {record.Offset} of the preempt channel fills with 0x{ram.Fill:x2}; QEMU only sends 0");
        }

        lock (_countGate)
        {
            stats.PreemptChannelPages++;
        }

        var page = ram.IsPage ? ram.Page : ZeroPage;
        if (memory.PageSize != page.Length)
        {
            PlaceHugePagePiece(_preemptAssembly, memory, ram.Offset, page, record.Offset);
            return;
        }

        var placement = memory.PlacePage(ram.Offset, page);
        RecordPlaced(PageRequestClocks.Key(memory, ram.Offset), placement.PagesAlreadyPresent);
    }

    /// <summary>Places the gathered background run; called whenever the connection has nothing more ready.</summary>
    public void FlushBackgroundRun()
    {
        if (_runLength == 0 || _runBlock is null)
        {
            return;
        }

        var alreadyPresent = _runBlock.PlaceRun(_runOffset, _run.AsSpan(0, _runLength)).PagesAlreadyPresent;
        var pageSize = (ulong)_runBlock.PageSize;
        // One lock for the run (up to 16 pages), not one a page.
        lock (_countGate)
        {
            stats.PostcopyDuplicatePages += alreadyPresent;
            for (var offset = _runOffset; offset < _runOffset + (ulong)_runLength; offset += pageSize)
            {
                clocks.CountPlaced(PageRequestClocks.Key(_runBlock, offset));
            }
        }

        _runLength = 0;
    }

    /// <summary>A huge page the main channel was sending starts afresh: after a break the source sends again whatever was not placed.</summary>
    public void ResetMainAssembly() => _mainAssembly.Reset();

    /// <summary>The preempt channel was replaced; its huge page in progress is sent again on the new one.</summary>
    public void ResetPreemptAssembly() => _preemptAssembly.Reset();

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
                throw lost($"{error} (record at offset {recordOffset})");
            }

            return;
        }

        RecordPlaced(PageRequestClocks.Key(memory, start), memory.PlaceRun(start, hugePage).PagesAlreadyPresent);
    }

    /// <summary>
    /// Counts a placed postcopy page, with its fault-to-placed time when a fault was waiting for it
    /// (and <paramref name="alreadyPresent"/> pages its placement found there already).
    /// </summary>
    private void RecordPlaced(long key, long alreadyPresent)
    {
        lock (_countGate)
        {
            stats.PostcopyDuplicatePages += alreadyPresent;
            clocks.CountPlaced(key);
        }
    }
}
