using System.Text.Json;
using Qmig.Wire.Analysis;
using Qmig.Wire.IO;
using Qmig.Wire.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Analysis;

/// <summary>
/// What <see cref="StreamCountingVisitor"/> counts in real QEMU streams, against the counts
/// tests/fixtures/walk_stream.py (an independent reader) wrote into each folder's expected-counts.json.
/// </summary>
public class StreamCountsTests
{
    [Theory]
    [InlineData("pc-32m-xbzrle", "pc-32m-xbzrle.mig")]
    [InlineData("pc-32m-compress", "pc-32m-compress.mig")]
    [InlineData("pc-32m-no-footer", "pc-32m-no-footer.mig")]
    [InlineData("pc-2m-mapped-ram-qemu10", "pc-2m-mapped-ram-qemu10.mig")]
    [InlineData("pc-2m-mapped-ram-multifd-qemu10", "pc-2m-mapped-ram-multifd-qemu10.mig")]
    [InlineData("pc-32m-postcopy", "postcopy-forward.mig")]
    [InlineData("pc-32m-postcopy-qemu10", "postcopy-forward.mig")]
    public void TheCountsAreTheIndependentReadersCounts(string folder, string file)
    {
        var directory = Path.Combine("data", folder);
        var path = Path.Combine(directory, file);
        var expectedFile = Path.Combine(directory, "expected-counts.json");
        Assert.True(File.Exists(expectedFile), $"{expectedFile} is missing");
        var root = JsonDocument.Parse(File.ReadAllBytes(expectedFile)).RootElement;
        // One stream in the folder: the counts are the root; several: keyed by file name.
        var expected = root.TryGetProperty("size", out _) ? root : root.GetProperty(file);

        var counts = new StreamCounts();
        var visitor = new StreamCountingVisitor(counts);
        using var input = MigrationInput.OpenFile(path);
        // A stream without section footers needs its vmdesc to delimit device bodies.
        var reader = new MigrationStreamReader(new MigrationReaderOptions { VmDescription = input.ReadTrailingVmDescription(out _) });
        Assert.Null(MigrationStreamDriver.ReadFile(input.File!, reader, ref visitor));

        Assert.Equal(Numbers(expected.GetProperty("records")), Sorted(counts.Records));
        Assert.Equal(Numbers(expected.GetProperty("commands")), Sorted(counts.Commands));
        var ram = expected.GetProperty("ram");
        Assert.Equal(ram.GetProperty("records").GetInt64(), counts.RamRecords);
        var flags = Enumerable.Range(0, counts.FlagCounts.Count)
            .Where(bit => counts.FlagCounts[bit] > 0)
            .Select(bit => (Name: ((RamSaveFlag)(1UL << bit)).ToQemuName()!.Replace("RAM_SAVE_FLAG_", "", StringComparison.Ordinal), Count: counts.FlagCounts[bit]))
            .OrderBy(flag => flag.Name, StringComparer.Ordinal);
        Assert.Equal(Numbers(ram.GetProperty("flags")), flags);
        foreach (var block in ram.GetProperty("blocks").EnumerateObject())
        {
            var counted = Assert.Single(counts.Blocks, b => b.Name == block.Name);
            Assert.Equal(block.Value.GetProperty("pages").GetInt64(), counts.PagesIn(counted));
        }

        if (expected.TryGetProperty("mapped_ram", out var mapped))
        {
            Assert.Equal(mapped.EnumerateObject().Count(), counts.MappedRam.Count);
            foreach (var block in mapped.EnumerateObject())
            {
                var counted = Assert.Single(counts.MappedRam, m => m.Block.Name == block.Name);
                Assert.Equal(block.Value.GetProperty("bitmap_offset").GetUInt64(), counted.BitmapOffset);
                Assert.Equal(block.Value.GetProperty("bitmap_bytes").GetInt32(), counted.BitmapBytes);
                Assert.Equal(block.Value.GetProperty("pages_offset").GetUInt64(), counted.PagesOffset);
                Assert.Equal(block.Value.GetProperty("pages_present").GetInt64(), counted.PagesPresent);
                Assert.Equal(counted.PagesPresent * reader.TargetPageSize, counted.BytesRead);
            }
        }
        else
        {
            Assert.Empty(counts.MappedRam);
        }
    }

    private static IEnumerable<(string Name, long Count)> Numbers(JsonElement counts) =>
        counts.EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();

    private static IEnumerable<(string Name, long Count)> Sorted(IReadOnlyDictionary<string, long> counts) =>
        counts.Select(p => (p.Key, p.Value)).OrderBy(p => p.Item1, StringComparer.Ordinal).ToList();
}
