#if QMIG_AT_REVISION
extern alias atrevision;

using System.Buffers;
using BenchmarkDotNet.Attributes;
using RevisionRamRecord = atrevision::Qmig.Wire.RamRecord;
using RevisionRamSaveFlag = atrevision::Qmig.Wire.RamSaveFlag;

namespace Qmig.Benchmarks.Wire;

/// <summary>
/// <see cref="Read"/>, <see cref="ReadSequence"/> and <see cref="Write"/> calling an older
/// revision's generated RamRecord instead of today's: the same loops over the same buffers, so each
/// AtRevision_X compares with X in the same run. Compiled only when against-revision.sh builds that
/// revision (QMIG_AT_REVISION, assemblies under the alias atrevision). The loops are copies, not a
/// shared helper taking the call, so that neither side measures an indirection the other lacks.
/// </summary>
public partial class RamPageStreamBenchmarks
{
    partial void SetupAtRevision()
    {
        Console.WriteLine($"// AtRevision: RamRecord from {typeof(RevisionRamRecord).Assembly.Location}");
        if (AtRevision_Read() != ExpectedSum() || AtRevision_ReadSequence() != ExpectedSum())
        {
            throw new InvalidOperationException("The revision's reader does not see the records today's writer wrote");
        }

        if (WritePagesAtRevision(writeTarget) != stream.Length || !writeTarget.AsSpan().SequenceEqual(stream))
        {
            throw new InvalidOperationException("The revision's writer does not make the stream today's writer makes");
        }
    }

    /// <summary><see cref="Read"/> with the revision's span reader.</summary>
    [Benchmark]
    public ulong AtRevision_Read()
    {
        ReadOnlySpan<byte> rest = stream;
        ulong sum = 0;
        while (!rest.IsEmpty)
        {
            if (RevisionRamRecord.TryRead(rest, PageSize, out var record, out var consumed, out _) != OperationStatus.Done)
            {
                throw new InvalidOperationException("The stream does not read back");
            }

            sum += record.Offset + (ulong)record.Page.Length;
            rest = rest.Slice(consumed);
        }

        return sum;
    }

    /// <summary><see cref="ReadSequence"/> with the revision's sequence reader.</summary>
    [Benchmark]
    public ulong AtRevision_ReadSequence()
    {
        var rest = segmented;
        ulong sum = 0;
        while (!rest.IsEmpty)
        {
            if (RevisionRamRecord.TryRead(rest, PageSize, out var record, out var consumed, out _) != OperationStatus.Done)
            {
                throw new InvalidOperationException("The stream does not read back");
            }

            sum += record.Offset + (ulong)record.Page.Length;
            rest = rest.Slice(consumed);
        }

        return sum;
    }

    /// <summary><see cref="Write"/> with the revision's writer, into the same buffer.</summary>
    [Benchmark]
    public int AtRevision_Write() => WritePagesAtRevision(writeTarget);

    private int WritePagesAtRevision(Span<byte> destination)
    {
        var position = 0;
        for (var i = 0; i < Pages; i++)
        {
            var flags = (ulong)RevisionRamSaveFlag.Page | (i == 0 ? 0 : (ulong)RevisionRamSaveFlag.ContinueBlock);
            var status = RevisionRamRecord.TryWrite(
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
}
#endif
