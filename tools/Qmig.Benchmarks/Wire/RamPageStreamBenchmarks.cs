using System.Buffers;
using Qmig.Fuzz;
using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Qmig.Wire;

namespace Qmig.Benchmarks.Wire;

/// <summary>
/// The reader's and writer's throughput against a plain copy, on a synthetic RAM section body: <see cref="Pages"/> PAGE records
/// of 4 KiB (the first names block "pc.ram", the rest have CONTINUE), about 64 MiB, made by our
/// writer. The baseline copies the same bytes with Span.CopyTo into a buffer of the same size;
/// the reader must walk the records at least as fast (it only touches headers and slices the
/// pages), and the writer must emit the pages at 0.9× the copy or better (it copies every page
/// once, as memcpy does).
/// Run: dotnet run -c Release --project tools/Qmig.Benchmarks -- --filter '*RamPageStream*'
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 30)]
public partial class RamPageStreamBenchmarks
{
    private const int PageSize = 4096;

    private static readonly byte[] BlockId = "pc.ram"u8.ToArray();

    private byte[] guestRam = [];
    private byte[] stream = [];
    private byte[] copyTarget = [];
    private byte[] writeTarget = [];
    private byte[] handTarget = [];
    private byte[] vectorTarget = [];
    private ReadOnlySequence<byte> segmented;

    /// <summary>16384 pages (64 MiB, far beyond the caches: the case) and 256 pages (1 MiB, in L2: what the code itself costs when memory is not the limit).</summary>
    [Params(16384, 256)]
    public int Pages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        guestRam = new byte[Pages * PageSize];
        new Random(42).NextBytes(guestRam);
        stream = new byte[TotalSize()];
        var written = WritePages(stream);
        if (written != stream.Length)
        {
            throw new InvalidOperationException($"Wrote {written} of {stream.Length} bytes");
        }

        copyTarget = new byte[stream.Length];
        writeTarget = new byte[stream.Length];
        handTarget = new byte[stream.Length];
        vectorTarget = new byte[stream.Length];
        segmented = Segment(stream, 64 * 1024);
        if (Read() != ExpectedSum() || ReadSequence() != ExpectedSum())
        {
            throw new InvalidOperationException("The reader does not see the records the writer wrote");
        }

        if (CopyPageByPage() != stream.Length || !handTarget.AsSpan().SequenceEqual(stream)
            || CopyPageByPageVectorized() != stream.Length || !vectorTarget.AsSpan().SequenceEqual(stream))
        {
            throw new InvalidOperationException("A hand-written copy does not make the same stream");
        }

        SetupAtRevision();
    }

    /// <summary>Checks an older revision's reader and writer when against-revision.sh compiles them in (RamPageStreamBenchmarks.AtRevision.cs).</summary>
    partial void SetupAtRevision();

    /// <summary>The baseline: memcpy of the whole stream.</summary>
    [Benchmark(Baseline = true)]
    public void Copy() => stream.AsSpan().CopyTo(copyTarget);

    /// <summary>Our span reader walking every record; sums each record's offset and page length so the reads stay observable.</summary>
    [Benchmark]
    public ulong Read()
    {
        ReadOnlySpan<byte> rest = stream;
        ulong sum = 0;
        while (!rest.IsEmpty)
        {
            if (RamRecord.TryRead(rest, PageSize, out var record, out var consumed, out _) != OperationStatus.Done)
            {
                throw new InvalidOperationException("The stream does not read back");
            }

            sum += record.Offset + (ulong)record.Page.Length;
            rest = rest.Slice(consumed);
        }

        return sum;
    }

    /// <summary>Our sequence reader over the same bytes in 64 KiB segments, as a pipe hands them over (for comparison; not a target).</summary>
    [Benchmark]
    public ulong ReadSequence()
    {
        var rest = segmented;
        ulong sum = 0;
        while (!rest.IsEmpty)
        {
            if (RamRecord.TryRead(rest, PageSize, out var record, out var consumed, out _) != OperationStatus.Done)
            {
                throw new InvalidOperationException("The stream does not read back");
            }

            sum += record.Offset + (ulong)record.Page.Length;
            rest = rest.Slice(consumed);
        }

        return sum;
    }

    /// <summary>Our writer emitting the same records from guest RAM into a preallocated buffer.</summary>
    [Benchmark]
    public int Write() => WritePages(writeTarget);

    /// <summary>
    /// Diagnostic, not a target: what <see cref="Write"/> does without our writer, by hand — the
    /// 8-byte header, then one Span.CopyTo per page into the same places. It separates the cost of
    /// the generated writer from the cost of copying 4 KiB at a time.
    /// </summary>
    [Benchmark]
    public int CopyPageByPage()
    {
        Span<byte> destination = handTarget;
        var position = 0;
        for (var i = 0; i < Pages; i++)
        {
            var flags = (ulong)RamSaveFlag.Page | (i == 0 ? 0 : (ulong)RamSaveFlag.ContinueBlock);
            BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(position), ((ulong)i * PageSize) | flags);
            position += 8;
            if (i == 0)
            {
                destination[position++] = (byte)BlockId.Length;
                BlockId.CopyTo(destination.Slice(position));
                position += BlockId.Length;
            }

            guestRam.AsSpan(i * PageSize, PageSize).CopyTo(destination.Slice(position));
            position += PageSize;
        }

        return position;
    }

    /// <summary>
    /// Diagnostic, not a target: <see cref="CopyPageByPage"/> with <see cref="VectorCopy"/> instead
    /// of Span.CopyTo for the page: the writer's work if the generated code copied large byte
    /// arrays with a managed vector loop.
    /// </summary>
    [Benchmark]
    public int CopyPageByPageVectorized()
    {
        Span<byte> destination = vectorTarget;
        var position = 0;
        for (var i = 0; i < Pages; i++)
        {
            var flags = (ulong)RamSaveFlag.Page | (i == 0 ? 0 : (ulong)RamSaveFlag.ContinueBlock);
            BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(position), ((ulong)i * PageSize) | flags);
            position += 8;
            if (i == 0)
            {
                destination[position++] = (byte)BlockId.Length;
                BlockId.CopyTo(destination.Slice(position));
                position += BlockId.Length;
            }

            VectorCopy.Copy(guestRam.AsSpan(i * PageSize, PageSize), destination.Slice(position));
            position += PageSize;
        }

        return position;
    }

    private int WritePages(Span<byte> destination)
    {
        var position = 0;
        for (var i = 0; i < Pages; i++)
        {
            var flags = (ulong)RamSaveFlag.Page | (i == 0 ? 0 : (ulong)RamSaveFlag.ContinueBlock);
            var status = RamRecord.TryWrite(
                destination.Slice(position),
                PageSize,
                ((ulong)i * PageSize) | flags,
                i == 0 ? BlockId : default,
                0,
                guestRam.AsSpan(i * PageSize, PageSize),
                0,
                default,
                default,
                out var written);
            if (status != OperationStatus.Done)
            {
                throw new InvalidOperationException($"Page {i}: {status}");
            }

            position += written;
        }

        return position;
    }

    private int TotalSize() => (1 + BlockId.Length) + (Pages * (8 + PageSize));

    private ulong ExpectedSum()
    {
        ulong sum = 0;
        for (var i = 0; i < Pages; i++)
        {
            sum += ((ulong)i * PageSize) + PageSize;
        }

        return sum;
    }

    private static ReadOnlySequence<byte> Segment(byte[] bytes, int size)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (var start = 0; start == 0 || start < bytes.Length; start += size)
        {
            pieces.Add(bytes.AsMemory(start, Math.Min(size, bytes.Length - start)));
        }

        return LinkedSegment.Join(pieces);
    }
}
