using System.Buffers;
using Qmig.Wire.Extraction;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Fuzz;

/// <summary>
/// The fuzz targets. The stream and return-path harnesses read their input whole, then again split
/// into three segments (the scratch-copy path), and check what the readers promise: a result of Done,
/// NeedMoreData or InvalidData with an error inside the input and a QMIG rule; a bounded number of
/// records per byte; pages only inside their blocks. The saved-stream harness (<see cref="Snapshot"/>) opens its input as a
/// file the way <c>qmig serve</c> does and reads every page two ways. A broken promise throws, which
/// afl counts as a crash.
/// Shared with the xunit replay of the saved corpus, so CI checks exactly what the fuzzer did.
/// </summary>
public static class Harnesses
{
    /// <summary>Caps far below the defaults, so the fuzzer reaches the cap checks with small inputs.</summary>
    public static readonly MigrationReaderOptions Options = new()
    {
        MaxDeviceBodySize = 1 << 16,
        MaxVmDescriptionSize = 1 << 16,
        MaxPackagedSize = 1 << 20,
    };

    /// <summary>The source's blocks for the return path: RECV_BITMAP blobs are checked against them (64 pages: 8 bytes).</summary>
    public static readonly RamBlock[] Blocks = [new(0, "pc.ram"u8.ToArray(), 64 * 4096, null, null), new(1, "vga.vram"u8.ToArray(), 1 << 20, null, null)];

    public static OperationStatus Stream(byte[] input) => Stream(input, Options);

    /// <summary>The stream harness with other reader options (a vmdesc, no footers).</summary>
    public static OperationStatus Stream(byte[] input, MigrationReaderOptions options)
    {
        var whole = ReadStream(input, new ReadOnlySequence<byte>(input), options);
        var split = ReadStream(input, Split(input), options);
        if (whole != split)
        {
            throw new InvalidOperationException($"whole input: {whole}, split input: {split}");
        }

        return whole;
    }

    /// <summary>Caps far below the defaults for the saved-stream harness: 64 MiB of announced RAM, 1 MiB of decoded pages.</summary>
    public static readonly SavedStreamOptions SavedOptions = new() { MaxRamBytes = 64L << 20, MaxDecodedPageBytes = 1L << 20 };

    /// <summary>
    /// The input as a saved stream that <c>qmig serve</c> would migrate (<see cref="SavedStream"/>):
    /// written to a file in memory, opened (indexed), and every page of every block read both ways, one
    /// by one (<see cref="SavedStream.ReadPage"/>, over the mapping) and in runs
    /// (<see cref="SavedStream.ReadPages"/>, with preadv), which must agree. A stream
    /// it refuses must say so with a <see cref="MigrationFormatException"/> whose error lies inside the
    /// input and names a QMIG rule. Done when it opened, InvalidData when it was refused.
    /// </summary>
    public static OperationStatus Snapshot(byte[] input)
    {
        var path = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"qmig-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.mig");
        File.WriteAllBytes(path, input);
        try
        {
            SavedStream stream;
            try
            {
                stream = SavedStream.Open(path, SavedOptions);
            }
            catch (MigrationFormatException e)
            {
                Check(OperationStatus.InvalidData, e.Error, input.Length, 0);
                return OperationStatus.InvalidData;
            }

            using (stream)
            {
                ReadEveryPageBothWays(stream);
            }

            return OperationStatus.Done;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void ReadEveryPageBothWays(SavedStream stream)
    {
        const int RunPages = 64;
        var pageBytes = stream.TargetPageSize;
        var scratch = new byte[pageBytes];
        var run = new byte[RunPages * pageBytes];
        var zero = new bool[RunPages];
        for (var block = 0; block < stream.Blocks.Count; block++)
        {
            var pages = stream.PageCount(block);
            for (long first = 0; first < pages; first += RunPages)
            {
                var count = (int)Math.Min(RunPages, pages - first);
                stream.ReadPages(block, first, run.AsSpan(0, count * pageBytes), zero);
                for (var i = 0; i < count; i++)
                {
                    var page = stream.ReadPage(block, first + i, scratch);
                    if (page.IsEmpty != zero[i] || (!page.IsEmpty && (page.Length != pageBytes || !page.SequenceEqual(run.AsSpan(i * pageBytes, pageBytes)))))
                    {
                        throw new InvalidOperationException($"page {first + i} of block {block}: read alone and in a run differ");
                    }
                }
            }
        }
    }

    public static OperationStatus ReturnPath(byte[] input)
    {
        var whole = ReadReturnPath(input, new ReadOnlySequence<byte>(input));
        var split = ReadReturnPath(input, Split(input));
        if (whole != split)
        {
            throw new InvalidOperationException($"whole input: {whole}, split input: {split}");
        }

        return whole;
    }

    private static OperationStatus ReadStream(byte[] input, ReadOnlySequence<byte> sequence, MigrationReaderOptions options)
    {
        var reader = new MigrationStreamReader(options);
        var image = new FuzzImage(input.Length);
        var visitor = new FuzzImageVisitor(image);
        var status = reader.Read(ref sequence, true, ref visitor);
        Check(status, reader.Error, input.Length, image.Records);
        return status;
    }

    private static OperationStatus ReadReturnPath(byte[] input, ReadOnlySequence<byte> sequence)
    {
        var reader = new ReturnPathReader(1 << 16, Blocks);
        var visitor = new FuzzReturnPathVisitor(new FuzzImage(input.Length));
        var status = reader.Read(ref sequence, true, ref visitor);
        Check(status, reader.Error, input.Length, visitor.Image.Records);
        return status;
    }

    private static void Check(OperationStatus status, MigrationError? error, int length, long records)
    {
        // Every record the visitor sees consumed at least one byte, apart from the EOF/footerless
        // transitions; more callbacks than bytes means the reader went round in circles.
        if (records > length + 2)
        {
            throw new InvalidOperationException($"{records} records from {length} bytes");
        }

        switch (status)
        {
            case OperationStatus.Done or OperationStatus.NeedMoreData when error is null:
                return;
            case OperationStatus.InvalidData when error is not null:
                if (error.Offset < 0 || error.Offset > length || !error.Rule.Id.StartsWith("QMIG", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"error outside the input or without a rule: {error}");
                }

                return;
            default:
                throw new InvalidOperationException($"status {status} with error {error}");
        }
    }

    /// <summary>Three segments cut at a third and two thirds: records straddle segment ends.</summary>
    private static ReadOnlySequence<byte> Split(byte[] input)
    {
        var a = input.Length / 3;
        var b = 2 * input.Length / 3;
        return LinkedSegment.Join([input.AsMemory(0, a), input.AsMemory(a, b - a), input.AsMemory(b)]);
    }
}
