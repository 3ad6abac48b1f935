using Qmig.Fuzz;
using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Qmig.Wire.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>
/// A stream read in pieces, as it arrives from a socket or a pipe, gives exactly the records of
/// the same stream read whole.
/// </summary>
public class StreamingTests
{
    private static readonly string[] Fixtures = RealStreams.Paths;

    private static readonly Lazy<(byte[] Bytes, RecordLog Whole)[]> Streams = new(() =>
        Fixtures.Select(path => File.ReadAllBytes(path)).Select(bytes => (bytes, RecordLog.ReadWhole(bytes))).ToArray());

    /// <summary>Feeds the stream in the given chunk sizes; unconsumed chunks stay separate segments.</summary>
    private static RecordLog ReadInChunks(byte[] stream, IEnumerable<int> chunkSizes, MigrationReaderOptions? options = null)
    {
        var log = new RecordLog();
        var reader = new MigrationStreamReader(options);
        var visitor = new RecordLogVisitor(log);
        var pending = new List<ReadOnlyMemory<byte>>();
        long delivered = 0;
        using var sizes = chunkSizes.GetEnumerator();
        while (true)
        {
            var size = sizes.MoveNext() ? Math.Max(1, sizes.Current) : 65536;
            var take = (int)Math.Min(size, stream.Length - delivered);
            pending.Add(stream.AsMemory((int)delivered, take));
            delivered += take;
            var final = delivered == stream.Length;
            var sequence = LinkedSegment.Join(pending);
            var offered = sequence.Length;
            var status = reader.Read(ref sequence, final, ref visitor);
            Assert.True(status != OperationStatus.InvalidData, reader.Error?.ToString());
            DropConsumed(pending, offered - sequence.Length);
            if (final)
            {
                Assert.Equal(OperationStatus.Done, status);
                return log;
            }
        }
    }

    /// <summary>
    /// Drops what the reader consumed from the front, keeping the rest split where the chunks were
    /// split. Linear in the pieces dropped: a record waiting for thousands of tiny chunks (the
    /// VMDESCRIPTION at the end) must not make the harness itself quadratic.
    /// </summary>
    private static void DropConsumed(List<ReadOnlyMemory<byte>> pending, long consumed)
    {
        var whole = 0;
        while (whole < pending.Count && pending[whole].Length <= consumed)
        {
            consumed -= pending[whole].Length;
            whole++;
        }

        pending.RemoveRange(0, whole);
        if (consumed > 0)
        {
            pending[0] = pending[0].Slice((int)consumed);
        }
    }

    // Random chunkings of every real stream, chunk sizes 16..112 bytes or 4 KiB..70 KB so records
    // straddle segments in every way, read with and without the stream's own VMDESCRIPTION. Chunks
    // of one byte each are OneByteAtATimeGivesTheSameRecords: as separate segments a device body
    // without a vmdesc is re-scanned for its footer at every byte, which is quadratic.
    [Property(MaxTest = 24)]
    public bool RandomChunksGiveTheSameRecords(NonEmptyArray<PositiveInt> sizes, bool small, PositiveInt stream, bool withVmDescription)
    {
        var index = stream.Get % Fixtures.Length;
        var (bytes, whole) = Streams.Value[index];
        var options = withVmDescription
            ? new MigrationReaderOptions { VmDescription = VmDescriptionDocument.ReadFromFile(Fixtures[index]) }
            : null;
        var chunking = sizes.Get.Select(s => small ? 16 + (s.Get % 97) : 4096 + (int)((long)s.Get * 7919 % 66000)).ToArray();
        var cycled = Enumerable.Range(0, int.MaxValue).Select(i => chunking[i % chunking.Length]);
        var chunked = ReadInChunks(bytes, cycled, options);
        return whole.Lines.SequenceEqual(chunked.Lines);
    }

    [Fact]
    public void OneByteAtATimeGivesTheSameRecords()
    {
        // The smallest real stream, fed one byte per call into a growing contiguous buffer.
        var (bytes, whole) = Streams.Value[0];
        var log = new RecordLog();
        var reader = new MigrationStreamReader();
        var visitor = new RecordLogVisitor(log);
        long start = 0;
        for (var end = 1; end <= bytes.Length; end++)
        {
            var sequence = new ReadOnlySequence<byte>(bytes, (int)start, end - (int)start);
            var status = reader.Read(ref sequence, end == bytes.Length, ref visitor);
            Assert.NotEqual(OperationStatus.InvalidData, status);
            start = end - sequence.Length;
        }

        Assert.True(reader.IsCompleted);
        Assert.Equal(whole.Lines, log.Lines);
    }
}
