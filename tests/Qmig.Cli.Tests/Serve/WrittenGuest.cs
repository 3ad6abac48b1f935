using Qmig.Postcopy.Bitmaps;
using Qmig.Postcopy.Source;

namespace Qmig.Cli.Tests.Serve;

/// <summary>
/// A saved guest made live for the discard test: its RAM is copied into arrays, and from the first page
/// read until <see cref="StopGuest"/> a thread writes random pages of pc.ram above 4 MiB (clear of the
/// dirty guest's code and pages below 1 MiB; and low enough that precopy reads some of them in its
/// first moments even on a slow machine, which the upper half alone did not guarantee), marking each
/// in its own dirty log with the write. It records, for each
/// page it hands out, its version and whether a write was still unsynced in the log (the source will be
/// told of that write at its next sync, after the read), so at the stop it knows exactly which pages the
/// source sent and then learnt were dirtied.
/// </summary>
internal sealed class WrittenGuest : IMigrationGuest, IDirtyPageSource, IDisposable
{
    private readonly IMigrationGuest _saved;
    private readonly byte[][] _ram;
    private readonly long[] _versions;
    private readonly long[] _versionRead;
    private readonly bool[] _loggedAtRead;
    private readonly bool[] _readAsData;
    private readonly DirtyBitmap[] _log;
    private readonly Lock _lock = new();
    private readonly int _pcRam;
    private Thread? _writer;
    private volatile bool _stop;

    public WrittenGuest(IMigrationGuest saved)
    {
        _saved = saved;
        var scratch = new byte[saved.TargetPageSize];
        _ram = new byte[saved.RamBlocks.Count][];
        _log = new DirtyBitmap[saved.RamBlocks.Count];
        for (var b = 0; b < _ram.Length; b++)
        {
            var pages = saved.RamBlocks[b].UsedLength / saved.TargetPageSize;
            _ram[b] = new byte[saved.RamBlocks[b].UsedLength];
            _log[b] = new DirtyBitmap(pages, allDirty: false);
            for (long page = 0; page < pages; page++)
            {
                saved.ReadPage(b, page, scratch).CopyTo(_ram[b].AsSpan((int)(page * saved.TargetPageSize)));
            }
        }

        _pcRam = saved.RamBlocks.Select((block, index) => (block, index)).Single(p => p.block.IdStr == "pc.ram").index;
        _versions = new long[_ram[_pcRam].Length / saved.TargetPageSize];
        _versionRead = Enumerable.Repeat(-1L, _versions.Length).ToArray();
        _loggedAtRead = new bool[_versions.Length];
        _readAsData = new bool[_versions.Length];
    }

    public int Writes { get; private set; }

    /// <summary>pc.ram pages handed out before the stop whose dirty log had or got a write after that, computed at the stop.</summary>
    public HashSet<long>? StaleAtStop { get; private set; }

    /// <summary>
    /// Of <see cref="StaleAtStop"/>, the pages whose last copy handed out was not all zero. Only those leave
    /// a stale copy at the destination: QEMU skips a zero page over memory that is still zero.
    /// </summary>
    public HashSet<long>? StaleDataAtStop { get; private set; }

    public int TargetPageSize => _saved.TargetPageSize;

    public IReadOnlyList<GuestRamBlock> RamBlocks => _saved.RamBlocks;

    public string? MachineType => _saved.MachineType;

    public ReadOnlyMemory<byte> ConfigurationRecord => _saved.ConfigurationRecord;

    public IReadOnlyList<ReadOnlyMemory<byte>> EarlySetupSections => _saved.EarlySetupSections;

    public IReadOnlyList<ReadOnlyMemory<byte>> DeviceSections => _saved.DeviceSections;

    public IDirtyPageSource? DirtyPages => this;

    public byte[] FinalRam() => _ram[_pcRam];

    public ReadOnlySpan<byte> ReadPage(int blockIndex, long targetPage, Span<byte> scratch)
    {
        lock (_lock)
        {
            _ram[blockIndex].AsSpan((int)(targetPage * TargetPageSize), TargetPageSize).CopyTo(scratch);
            if (blockIndex == _pcRam && StaleAtStop is null)
            {
                _versionRead[targetPage] = _versions[targetPage];
                _loggedAtRead[targetPage] = _log[_pcRam].Test(targetPage);
                _readAsData[targetPage] = scratch[..TargetPageSize].ContainsAnyExcept((byte)0);
            }
        }

        return scratch[..TargetPageSize].ContainsAnyExcept((byte)0) ? scratch[..TargetPageSize] : default;
    }

    public void StartTracking()
    {
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "guest writer" };
        _writer.Start();
    }

    public void Sync(int blockIndex, DirtyBitmap dirty)
    {
        using var scope = _lock.EnterScope();
        var log = _log[blockIndex];
        for (var page = log.FindNextSet(0); page >= 0; page = log.FindNextSet(page + 1))
        {
            if (log.TestAndClear(page))
            {
                dirty.Set(page);
            }
        }
    }

    public void StopGuest()
    {
        _stop = true;
        _writer?.Join();
        lock (_lock)
        {
            StaleAtStop = [.. Enumerable.Range(0, _versions.Length).Where(p => _versionRead[p] >= 0 && (_versionRead[p] != _versions[p] || _loggedAtRead[p])).Select(p => (long)p)];
            StaleDataAtStop = [.. StaleAtStop.Where(p => _readAsData[p])];
        }
    }

    public void Dispose()
    {
        _stop = true;
        _writer?.Join();
    }

    private void WriteLoop()
    {
        var random = new Random(7);
        var pages = _versions.Length;
        while (!_stop)
        {
            var page = (pages / 8) + random.Next(pages - (pages / 8));
            lock (_lock)
            {
                random.NextBytes(_ram[_pcRam].AsSpan(page * TargetPageSize, TargetPageSize));
                _versions[page]++;
                _log[_pcRam].Set(page);
            }

            Writes++;
            Thread.Yield();
        }
    }
}
