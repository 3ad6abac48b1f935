using System.Buffers;
using Qmig.Wire.Tests.Properties;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Wire.Tests.Allocation;

/// <summary>
/// Reading and writing a million records of each kind in steady state allocates nothing: from a
/// span, from a multi-segment sequence, into a reused span, and into a reused ArrayBufferWriter
/// (ResetWrittenCount between records). Measured with GC.GetAllocatedBytesForCurrentThread around
/// each loop, after a warm-up that runs the same loop (so the JIT's tier-up is done). Each loop
/// runs <see cref="Rounds"/> times and the quietest round counts: any allocation per record would
/// show in every round as at least 24 MB, while a one-off runtime allocation on the test thread
/// (seen once in a full parallel CI run: 2.9 KB in a million records) shows in one round only.
/// The class runs alone, outside the parallel test collections, to keep such noise away.
/// </summary>
[Collection(nameof(AllocationMeasurements))]
public sealed class ZeroAllocationTests(ITestOutputHelper output)
{
    private const int Records = 1_000_000;

    private const int WarmUp = 20_000;

    private const int Rounds = 3;

    /// <summary>Where <see cref="TheMeasurementSeesAllocations"/> puts its arrays, so the JIT cannot drop them.</summary>
    private static object? sink;

    [Theory]
    [MemberData(nameof(AllocationCases.Names), MemberType = typeof(AllocationCases))]
    public void AMillionReadsAndWritesAllocateNothing(string kind)
    {
        var c = AllocationCases.ByName[kind];
        var bytes = c.Encode();
        // Three segments, so that fields straddle segment boundaries as they do in a pipe.
        var sequence = Segments.Cut(bytes, bytes.Length / 3, 2 * bytes.Length / 3);
        var destination = new byte[bytes.Length];
        var writer = new ArrayBufferWriter<byte>(bytes.Length + 64);

        var results = new (string Operation, long Bytes, long Failures)[]
        {
            ("read span", 0, 0),
            ("read sequence", 0, 0),
            ("TryWrite span", 0, 0),
            ("Write IBufferWriter", 0, 0),
        };
        for (var op = 0; op < results.Length; op++)
        {
            Run(op, c, bytes, sequence, destination, writer, WarmUp);
            var quietest = long.MaxValue;
            long failures = 0;
            for (var round = 0; round < Rounds; round++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                failures += Run(op, c, bytes, sequence, destination, writer, Records);
                quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
            }

            results[op] = (results[op].Operation, quietest, failures);
        }

        output.WriteLine($"{kind} ({bytes.Length} bytes): " + string.Join(", ", results.Select(r => $"{r.Operation} {r.Bytes} B")));
        foreach (var (operation, allocated, failures) in results)
        {
            Assert.True(failures == 0, $"{operation}: {failures} of {Rounds * Records} records did not round-trip");
            Assert.True(allocated == 0, $"{operation}: {Records} records allocated {allocated} bytes in the quietest of {Rounds} rounds");
        }

        Assert.True(destination.AsSpan().SequenceEqual(bytes), "TryWrite wrote different bytes");
        Assert.True(writer.WrittenSpan.SequenceEqual(bytes), "Write wrote different bytes");
    }

    /// <summary>The measurement is not blind: the same before/after pair sees a loop that does allocate.</summary>
    [Fact]
    public void TheMeasurementSeesAllocations()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            sink = new byte[1];
        }

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before >= 1000 * 25, "1000 one-byte arrays were not seen");
    }

    /// <summary>One loop of one operation; returns how many records did not give Done with the expected length (counted, not asserted, so the loop itself allocates nothing).</summary>
    private static long Run(int operation, WireCase c, byte[] bytes, ReadOnlySequence<byte> sequence, byte[] destination, ArrayBufferWriter<byte> writer, int count)
    {
        long failures = 0;
        switch (operation)
        {
            case 0:
                for (var i = 0; i < count; i++)
                {
                    if (c.Read(bytes, out var consumed, out _) != OperationStatus.Done || consumed != bytes.Length)
                    {
                        failures++;
                    }
                }

                break;
            case 1:
                for (var i = 0; i < count; i++)
                {
                    if (c.Read(sequence, out var consumed, out _) != OperationStatus.Done || consumed != bytes.Length)
                    {
                        failures++;
                    }
                }

                break;
            case 2:
                for (var i = 0; i < count; i++)
                {
                    if (c.TryWrite(destination, out var written) != OperationStatus.Done || written != bytes.Length)
                    {
                        failures++;
                    }
                }

                break;
            default:
                for (var i = 0; i < count; i++)
                {
                    writer.ResetWrittenCount();
                    c.Write(writer);
                    if (writer.WrittenCount != bytes.Length)
                    {
                        failures++;
                    }
                }

                break;
        }

        return failures;
    }
}

/// <summary>The measurements that must not share the process's time with parallel test classes.</summary>
[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;
