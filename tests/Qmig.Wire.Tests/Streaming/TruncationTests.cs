using System.Buffers;
using Qmig.Wire.Streaming;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>
/// Every truncation point of every real stream: read incrementally, a cut stream is only "need
/// more data"; told that the input has ended, it is "truncated at 0x…" and nothing else.
/// </summary>
public class TruncationTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(RealStreams.PathData), MemberType = typeof(RealStreams))]
    public void EveryTruncationPointIsNeedMoreDataThenTruncated(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var options = new MigrationReaderOptions { VmDescription = VmDescriptionDocument.ReadFromFile(path) };
        var boundaries = RecordLog.ReadWhole(bytes, options).Boundaries.Distinct().Append(bytes.Length).ToArray();

        // Walk the stream record by record; at each boundary, try every cut inside the next record
        // on a snapshot of the reader, so the whole stream is read once and not once per cut.
        var reader = new MigrationStreamReader(options);
        var nothing = new RecordLogVisitor(new RecordLog());
        long checkedCuts = 0;
        for (var r = 0; r < boundaries.Length - 1; r++)
        {
            var from = boundaries[r];
            var to = boundaries[r + 1];
            var partial = reader.Snapshot();
            for (var cut = from; cut < to; cut++)
            {
                // A need-more-data answer leaves the state as it was, so one snapshot serves every cut.
                var sequence = new ReadOnlySequence<byte>(bytes, (int)from, (int)(cut - from));
                var streaming = partial.Read(ref sequence, false, ref nothing);
                Assert.True(streaming == OperationStatus.NeedMoreData, $"cut at 0x{cut:x}: {streaming} {partial.Error}");
                Assert.Equal(from, partial.Position);

                var final = reader.Snapshot();
                sequence = new ReadOnlySequence<byte>(bytes, (int)from, (int)(cut - from));
                var ended = final.Read(ref sequence, true, ref nothing);
                if (cut == from && reader.IsCompleted)
                {
                    // Right after QEMU_VM_EOF a stream may end (postcopy, suppressed vmdesc).
                    Assert.Equal(OperationStatus.Done, ended);
                    checkedCuts++;
                    continue;
                }

                Assert.True(ended == OperationStatus.InvalidData, $"cut at 0x{cut:x} (record 0x{from:x}..0x{to:x}, completed {reader.IsCompleted}): {ended}");
                Assert.Equal(MigrationRules.Truncated, final.Error!.Rule);
                Assert.StartsWith($"truncated at 0x{from:x}", final.Error.Message);
                checkedCuts++;
            }

            var step = new ReadOnlySequence<byte>(bytes, (int)from, (int)(to - from));
            var status = reader.Read(ref step, to == bytes.Length, ref nothing);
            Assert.True(status is OperationStatus.NeedMoreData or OperationStatus.Done, reader.Error?.ToString());
            Assert.Equal(to, reader.Position);
        }

        Assert.True(reader.IsCompleted);
        Assert.Equal(bytes.Length, checkedCuts);
        output.WriteLine($"{path}: {checkedCuts} truncation points checked");
    }
}
