using BenchmarkDotNet.Attributes;
using Qmig.Wire.Extraction;

namespace Qmig.Benchmarks.Stream;

/// <summary>
/// Opening a saved stream as a guest (<see cref="SavedStream.Open"/>: map the file, one pass over
/// its record headers, the page index) on the large RAM-heavy real stream (<see cref="BigStream"/>),
/// against the least any opener that looks at the whole file must do: read(2) it once, in 1 MiB
/// chunks, into one reused buffer. The file is in the page cache after the first iteration of
/// each, so both measure memory and CPU, not the disk. <see cref="ReadEveryPage"/> adds serving
/// every page once through <see cref="SavedStream.ReadPage"/>, touching one byte of each (each
/// page then enters the mapping with a minor fault).
/// </summary>
[MemoryDiagnoser]
public class SavedStreamBenchmarks
{
    private string _path = "";
    private byte[] _buffer = [];

    [GlobalSetup]
    public void Setup()
    {
        _path = BigStream.Path;
        _buffer = new byte[1 << 20];
        using var stream = SavedStream.Open(_path);
        var pages = Enumerable.Range(0, stream.Blocks.Count).Sum(stream.PageCount);
        Console.WriteLine($"// {_path}: {new FileInfo(_path).Length} bytes, {stream.Blocks.Count} blocks, {pages} pages; " +
            $"index {stream.IndexBytes} bytes reserved, decoded pages {stream.DecodedPageBytes} bytes, {stream.DeviceSections.Count} device sections");
    }

    /// <summary>Every byte of the file through read(2), nothing else.</summary>
    [Benchmark(Baseline = true)]
    public long ReadFileBaseline()
    {
        using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long total = 0;
        int read;
        while ((read = file.Read(_buffer, 0, _buffer.Length)) > 0)
        {
            total += read;
        }

        return total;
    }

    /// <summary>Map, index, and have the configuration and device sections ready.</summary>
    [Benchmark]
    public long OpenIndex()
    {
        using var stream = SavedStream.Open(_path);
        return stream.IndexBytes + stream.DeviceSections.Count;
    }

    /// <summary>Open, then every page once, as a source's background stream would take them.</summary>
    [Benchmark]
    public long ReadEveryPage()
    {
        using var stream = SavedStream.Open(_path);
        Span<byte> scratch = stackalloc byte[stream.TargetPageSize];
        long sum = 0;
        for (var block = 0; block < stream.Blocks.Count; block++)
        {
            for (long page = 0, count = stream.PageCount(block); page < count; page++)
            {
                var bytes = stream.ReadPage(block, page, scratch);
                sum += bytes.IsEmpty ? 0 : bytes[0];
            }
        }

        return sum;
    }
}
