using Qmig.Wire.Streaming;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Wire.Tests.Streaming;

public class FixtureStreamTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(RealStreams.NameData), MemberType = typeof(RealStreams))]
    public void EveryRealStreamReadsToItsLastByte(string name)
    {
        var path = Path.Combine("data", name);
        foreach (var withVmdesc in new[] { false, true })
        {
            var options = new MigrationReaderOptions { VmDescription = withVmdesc ? VmDescriptionDocument.ReadFromFile(path) : null };
            var reader = new MigrationStreamReader(options);
            var counts = new RecordCounts();
            var visitor = new CountingVisitor(counts, log: true);
            using var file = File.OpenRead(path);
            var error = MigrationStreamDriver.Read(file, reader, ref visitor, chunkSize: 64 * 1024);
            if (error is not null)
            {
                output.WriteLine(string.Join("\n", counts.Log.TakeLast(10)));
            }

            Assert.Null(error);
            Assert.True(reader.IsCompleted);
            Assert.Equal(new FileInfo(path).Length, reader.Position);
            Assert.Equal(reader.Position, counts.LastEnd);
            output.WriteLine($"{name} vmdesc={withVmdesc}: {string.Join(", ", counts.Records.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"))}; flags {string.Join(", ", counts.RamFlags.Select(k => $"{k.Key}={k.Value}"))}");
        }
    }
}
