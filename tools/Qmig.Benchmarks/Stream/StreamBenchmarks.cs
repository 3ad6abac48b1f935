using System.Buffers;
using BenchmarkDotNet.Attributes;
using Qmig.Wire.Analysis;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;

namespace Qmig.Benchmarks.Stream;

/// <summary>
/// Speed on a large RAM-heavy real stream (<see cref="BigStream"/>), in one run: the baseline
/// writes every PAGE record's bytes to its place in a file per block, 1024 consecutive pages a
/// pwritev (the least any extractor must do); <c>Extract</c> reads the same in-memory
/// stream with <see cref="MigrationStreamReader"/> and applies every record to the same images
/// through <see cref="RamImageSet"/>, the path of <c>qmig extract</c>; <c>Stats</c> walks every
/// record counting what <c>qmig stats</c> counts. The *FromFile variants add reading the file the
/// way the CLI does. Images live in /dev/shm so that disk writeback does not add to the times;
/// after the first iteration every benchmark overwrites pages that exist.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class StreamBenchmarks
{
    private byte[] _stream = [];
    private string _path = "";
    private VmDescriptionDocument? _vmdesc;
    private RamImageSet _images = null!;
    private List<Qmig.Wire.Streaming.RamBlock> _blocks = [];
    private long[] _sources = [];
    private int[] _blockOf = [];
    private ulong[] _offsets = [];
    private string _imageDir = "";
    private Microsoft.Win32.SafeHandles.SafeFileHandle[] _baselineFiles = [];

    [GlobalSetup]
    public void Setup()
    {
        _path = BigStream.Path;
        _stream = File.ReadAllBytes(_path);
        _vmdesc = VmDescriptionDocument.ReadFromFile(_path);
        var pages = new List<(long, int, ulong)>();
        var index = new PageIndexVisitor(pages, _blocks);
        var sequence = new ReadOnlySequence<byte>(_stream);
        var reader = new MigrationStreamReader(Options());
        if (reader.Read(ref sequence, true, ref index) != OperationStatus.Done)
        {
            throw new InvalidOperationException($"{_path} does not read: {reader.Error}");
        }

        _sources = pages.Select(p => p.Item1).ToArray();
        _blockOf = pages.Select(p => p.Item2).ToArray();
        _offsets = pages.Select(p => p.Item3).ToArray();
        _imageDir = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"qmig-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(_imageDir);
        _images = new RamImageSet(_imageDir, reader.TargetPageSize);
        foreach (var block in _blocks)
        {
            _images.AddBlock(block);
        }

        _baselineFiles = _blocks.Select(b =>
        {
            var handle = File.OpenHandle(Path.Combine(_imageDir, $"baseline-{b.Index}"), FileMode.Create, FileAccess.ReadWrite);
            RandomAccess.SetLength(handle, (long)b.UsedLength);
            return handle;
        }).ToArray();
        Console.WriteLine($"// {_path}: {_stream.Length} bytes, {_sources.Length} PAGE records ({(long)_sources.Length * 4096 >> 20} MiB of pages)");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _images.Dispose();
        foreach (var handle in _baselineFiles)
        {
            handle.Dispose();
        }

        Directory.Delete(_imageDir, recursive: true);
    }

    private MigrationReaderOptions Options() => new() { VmDescription = _vmdesc };

    /// <summary>(a) Every PAGE record's 4 KiB written from the stream bytes to its place in a file, runs of consecutive pages in one pwritev, nothing else.</summary>
    [Benchmark(Baseline = true)]
    public long CopyPagesBaseline()
    {
        var run = new List<ReadOnlyMemory<byte>>(1024);
        var runBlock = -1;
        ulong runStart = 0;
        for (var i = 0; i < _sources.Length; i++)
        {
            if (run.Count > 0 && (_blockOf[i] != runBlock || _offsets[i] != runStart + (ulong)run.Count * 4096 || run.Count == 1024))
            {
                RandomAccess.Write(_baselineFiles[runBlock], run, (long)runStart);
                run.Clear();
            }

            if (run.Count == 0)
            {
                runBlock = _blockOf[i];
                runStart = _offsets[i];
            }

            run.Add(_stream.AsMemory((int)_sources[i], 4096));
        }

        if (run.Count > 0)
        {
            RandomAccess.Write(_baselineFiles[runBlock], run, (long)runStart);
        }

        return _sources.Length;
    }

    /// <summary>(b) The reader over the same bytes applying every record to the images (qmig extract's RAM path).</summary>
    [Benchmark]
    public long Extract()
    {
        var reader = new MigrationStreamReader(Options());
        var visitor = new RamImageVisitor(_images, addBlocks: false);
        var sequence = new ReadOnlySequence<byte>(_stream);
        return reader.Read(ref sequence, true, ref visitor) == OperationStatus.Done ? reader.Position : throw new InvalidOperationException(reader.Error?.ToString());
    }

    /// <summary>(c) The reader walking every record, counting what qmig stats prints (StreamCountingVisitor).</summary>
    [Benchmark]
    public long Stats()
    {
        var reader = new MigrationStreamReader(Options());
        var visitor = new StreamCountingVisitor(new StreamCounts());
        var sequence = new ReadOnlySequence<byte>(_stream);
        return reader.Read(ref sequence, true, ref visitor) == OperationStatus.Done ? reader.Position : throw new InvalidOperationException(reader.Error?.ToString());
    }

    /// <summary>(b) from the file, read the way the CLI reads it.</summary>
    [Benchmark]
    public long ExtractFromFile()
    {
        var reader = new MigrationStreamReader(Options());
        var visitor = new RamImageVisitor(_images, addBlocks: false);
        var error = MigrationStreamDriver.ReadFile(_path, reader, ref visitor);
        return error is null ? reader.Position : throw new InvalidOperationException(error.ToString());
    }

    /// <summary>(c) from the file, read the way the CLI reads it.</summary>
    [Benchmark]
    public long StatsFromFile()
    {
        var reader = new MigrationStreamReader(Options());
        var visitor = new StreamCountingVisitor(new StreamCounts());
        var error = MigrationStreamDriver.ReadFile(_path, reader, ref visitor);
        return error is null ? reader.Position : throw new InvalidOperationException(error.ToString());
    }
}
