using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Qmig.Fuzz;
using Qmig.Wire.Streaming;
using Qmig.Wire.Tests.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>
/// Damaged streams (bit flips, inserted, deleted and overwritten bytes, truncation, records spliced
/// elsewhere) meet the reader's promise: Done, NeedMoreData or InvalidData naming an offset inside
/// the input and a QMIG rule; never another exception; at most one record callback per input byte
/// (plus EOF); every page it lets through lies inside its block. The checks are the fuzz harness's
/// (<see cref="Harnesses"/>), which also reads every input a second time split into three segments
/// and requires the same outcome.
/// </summary>
public class MutationProperties
{
    private static readonly string[] RealStreams =
    [
        "data/pc-32m-paused/pc-32m-paused.mig",
        "data/q35-devices/q35-devices.mig",
        "data/pc-32m-xbzrle/pc-32m-xbzrle.mig",
        "data/pc-32m-compress/pc-32m-compress.mig",
        "data/pc-32m-postcopy/postcopy-forward.mig",
        "data/pc-32m-paused-qemu10/pc-32m-paused.mig",
    ];

    private static readonly string[] ReturnPaths =
    [
        "data/pc-32m-postcopy/postcopy-return-path.bin",
        "data/pc-32m-postcopy-qemu10/postcopy-return-path.bin",
        "data/pc-32m-return-path-qemu10/precopy-return-path.bin",
    ];

    private static readonly Lazy<(byte[] Bytes, long[] Boundaries)[]> Real = new(() => RealStreams
        .Select(path => File.ReadAllBytes(path))
        .Select(bytes => (bytes, RecordLog.ReadWhole(bytes).Boundaries.Distinct().ToArray()))
        .ToArray());

    private static readonly Lazy<byte[][]> RealReturnPaths = new(() => ReturnPaths.Select(File.ReadAllBytes).ToArray());

    private static Arbitrary<(StreamModel, Mutation[])> GeneratedAndMutations =>
        Gen.Zip(StreamModelGenerators.Model, MutationGenerators.Mutations).ToArbitrary();

    // 500 damaged generated streams: each model is small (a few KiB to ~100 KiB) and differs in
    // structure, and 1-4 mutations of six kinds land anywhere, so together they reach every
    // record kind's error paths (about 3 s).
    [Property(MaxTest = 500)]
    public Property DamagedGeneratedStreamsFailCleanly() => Prop.ForAll(GeneratedAndMutations, pair =>
    {
        var (model, mutations) = pair;
        var written = StreamModelWriter.Write(model);
        var bytes = mutations.Aggregate(written.Bytes, (b, m) => m.Apply(b));
        Harnesses.Stream(bytes, written.Options);
        Harnesses.Stream(bytes, Harnesses.Options);
    });

    // 150 damaged real streams (six QEMU 7.2/10.0 captures, 0.3-1.8 MB each, read twice per
    // case): real streams carry what generated ones do not (configuration subsections, compressed
    // pages, real device bodies found by footer scan); splices move whole records.
    [Property(MaxTest = 150)]
    public Property DamagedRealStreamsFailCleanly() => Prop.ForAll(MutationGenerators.Arbitrary, Gen.Choose(0, RealStreams.Length - 1).ToArbitrary(), (mutations, which) =>
    {
        var (original, boundaries) = Real.Value[which];
        var bytes = mutations.Aggregate(original, (b, m) => m.Apply(b, boundaries));
        Harnesses.Stream(bytes, new MigrationReaderOptions());
    });

    // 2000 damaged return paths: the captures are 20-351 bytes, so each case takes microseconds
    // and 2000 cover every byte of every capture with every mutation kind many times.
    [Property(MaxTest = 2000)]
    public Property DamagedReturnPathsFailCleanly() => Prop.ForAll(MutationGenerators.Arbitrary, Gen.Choose(0, ReturnPaths.Length - 1).ToArbitrary(), (mutations, which) =>
    {
        var bytes = mutations.Aggregate(RealReturnPaths.Value[which], (b, m) => m.Apply(b));
        Harnesses.ReturnPath(bytes);
    });

    [Fact]
    public void EveryRealStreamReadsCleanlyThroughTheHarness()
    {
        foreach (var (bytes, _) in Real.Value)
        {
            Assert.Equal(OperationStatus.Done, Harnesses.Stream(bytes, new MigrationReaderOptions()));
        }

        foreach (var bytes in RealReturnPaths.Value)
        {
            Assert.Equal(OperationStatus.Done, Harnesses.ReturnPath(bytes));
        }
    }
}
