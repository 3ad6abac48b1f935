using Qmig.Fuzz;
using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Qmig.Wire.Streaming;
using Qmig.Wire.Tests.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>Random valid streams written with our writers read back as exactly the records they were written from.</summary>
public class StreamModelProperties
{
    // 300 models: each one mixes 1-3 blocks of 1..64 pages, 1-3 RAM iterations of up to 12
    // ZERO/PAGE/XBZRLE records (so CONTINUE and block switches), up to 3 FULL devices, footers
    // on/off with and without a vmdesc, and postcopy (ADVISE, DISCARD, PACKAGED LISTEN/RUN) in
    // about half. 300 cases hit every pairing of those binary choices (2^5 = 32) several times
    // over, in about 2 seconds.
    [Property(MaxTest = 300)]
    public Property ReadingGivesBackTheModel() => Prop.ForAll(StreamModelGenerators.Arbitrary, model =>
    {
        var written = StreamModelWriter.Write(model);
        var whole = Read(written.Bytes, new ReadOnlySequence<byte>(written.Bytes), written.Options);
        Assert.Equal(written.Expected, whole);

        // Again with the stream cut into 7-byte-and-up segments: records straddle every boundary.
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (var at = 0; at < written.Bytes.Length; at += 7 + at % 4093)
        {
            pieces.Add(written.Bytes.AsMemory(at, Math.Min(7 + at % 4093, written.Bytes.Length - at)));
        }

        Assert.Equal(written.Expected, Read(written.Bytes, LinkedSegment.Join(pieces), written.Options));
    });

    private static List<string> Read(byte[] bytes, ReadOnlySequence<byte> sequence, MigrationReaderOptions options)
    {
        var log = new List<string>();
        var reader = new MigrationStreamReader(options);
        var visitor = new ModelLogVisitor(log);
        var status = reader.Read(ref sequence, true, ref visitor);
        Assert.True(status == OperationStatus.Done, $"{status}: {reader.Error}");
        Assert.Equal(bytes.Length, reader.Position);
        return log;
    }
}
