using System.Buffers.Binary;
using System.Security.Cryptography;
using Qmig.Wire.Extraction;
using Qmig.Wire.IO;
using Qmig.Wire.PythonJson;
using Qmig.Wire.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Extraction;

/// <summary>
/// Real QEMU streams taken apart: RAM images and state.json against what analyze-migration.py -x
/// wrote from the same stream, a vmdesc given for a stream without one, a postcopy main stream
/// with its preempt channel, and streams cut short, whose error is returned with what was read.
/// </summary>
public sealed class StreamExtractionTests : IDisposable
{
    private const string Paused = "data/pc-32m-paused/pc-32m-paused.mig";
    private const string PreemptFolder = "data/pc-32m-postcopy-preempt";
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("qmig-extraction-");

    [Fact]
    public void ACompleteStreamGivesTheAnalyzersRamImagesAndState()
    {
        using var input = MigrationInput.OpenFile(Paused);
        var ram = Ram("paused");
        var extraction = StreamExtraction.Run(input, ram);
        Assert.Null(extraction.Error);
        Assert.Null(extraction.DescriptionError);
        Assert.NotNull(extraction.Description);
        Assert.Empty(extraction.State.Problems);
        Assert.Equal(4096, extraction.TargetPageSize);

        const string reference = "data/pc-32m-paused/analyze-migration";
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "state.json")), PythonJsonWriter.ToBytes(extraction.State.Root));
        var expected = File.ReadAllLines(Path.Combine(reference, "ram-images.txt"))
            .Where(line => line.Length > 0)
            .Select(line => line.Split(' '))
            .Select(parts => (Name: parts[0][2..], Size: long.Parse(parts[1]["size=".Length..]), Sha: parts[3]["sha256=".Length..]))
            .OrderBy(image => image.Name, StringComparer.Ordinal);
        var actual = extraction.Images
            .Select(image => (Name: Path.GetRelativePath(ram, image.Path), Size: new FileInfo(image.Path).Length, Sha: Sha256(image.Path)))
            .OrderBy(image => image.Name, StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The reader frames a COMPRESS_PAGE record without inflating it; the images inflate it. One whose
    /// deflate data is noise ends the extraction with an error at its record, as a reader's error would.
    /// </summary>
    [Fact]
    public void ACompressedPageThatDoesNotInflateEndsTheExtractionAtItsRecord()
    {
        const string Compress = "data/pc-32m-compress/pc-32m-compress.mig";
        var bytes = File.ReadAllBytes(Compress);
        var log = Streaming.RecordLog.ReadWhole(bytes);
        const ulong CompressPage = 0x100, Continue = 0x20;
        var record = log.Lines.Select(line => line.Split(' '))
            .Where(fields => fields[0] == nameof(RecordKind.RamRecord))
            .Select(fields => Convert.ToInt64(fields[1], 16))
            .First(offset => (BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan((int)offset)) & CompressPage) != 0);
        var flags = BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan((int)record));
        var at = (int)record + 8;
        at += (flags & Continue) != 0 ? 0 : 1 + bytes[at];
        var zlibLength = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at));
        // The zlib header stays, the deflate data becomes noise.
        new Random(5).NextBytes(bytes.AsSpan(at + 4 + 2, zlibLength - 2));
        var damaged = Path.Combine(_work.FullName, "damaged-compress.mig");
        File.WriteAllBytes(damaged, bytes);

        using var input = MigrationInput.OpenFile(damaged);
        var extraction = StreamExtraction.Run(input, Ram("damaged-compress"));

        Assert.Equal(MigrationRules.BadCompressedPage, extraction.Error?.Rule);
        Assert.Equal(record, extraction.Error!.Offset);
        Assert.Equal("ram_record", extraction.Error.Record);
    }

    [Fact]
    public void AStreamCutShortIsReadUpToTheCutAndSaysWhere()
    {
        var bytes = File.ReadAllBytes(Paused);
        var cut = Path.Combine(_work.FullName, "cut.mig");
        File.WriteAllBytes(cut, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        using var input = MigrationInput.OpenFile(cut);
        var extraction = StreamExtraction.Run(input, Ram("cut"));
        Assert.Equal(MigrationRules.Truncated, extraction.Error?.Rule);
        Assert.False(extraction.ErrorInPreemptChannel);
        Assert.InRange(extraction.Error!.Offset, 0, bytes.Length / 2);
        Assert.Null(extraction.Description);
        Assert.NotEmpty(extraction.Images);
    }

    [Fact]
    public void AVmDescriptionGivenDecodesAStreamWithoutOne()
    {
        const string Stream = "data/pc-32m-no-vmdesc/pc-32m-no-vmdesc.mig";
        using (var input = MigrationInput.OpenFile(Stream))
        {
            var alone = StreamExtraction.Run(input, Ram("alone"));
            Assert.Null(alone.Error);
            Assert.Null(alone.Description);
            Assert.Null(alone.DescriptionJson);
        }

        var twin = VmDescriptionDocument.Parse(File.ReadAllBytes("data/pc-32m-no-vmdesc/twin-vmdesc.json"));
        using (var input = MigrationInput.OpenFile(Stream))
        {
            var given = StreamExtraction.Run(input, Ram("given"), new StreamExtractionOptions { VmDescription = twin });
            Assert.Null(given.Error);
            Assert.Same(twin, given.Description);
            Assert.Equal(twin.Json, given.DescriptionJson);
            Assert.Empty(given.State.Problems);
        }
    }

    [Fact]
    public void ThePreemptChannelsPagesAreAppliedAfterTheMainStreams()
    {
        using var main = MigrationInput.OpenFile(Path.Combine(PreemptFolder, "postcopy-forward.mig"));
        using var preempt = MigrationInput.OpenFile(Path.Combine(PreemptFolder, "postcopy-preempt.mig"));
        var extraction = StreamExtraction.Run(main, Ram("preempt"), new StreamExtractionOptions { PreemptChannel = preempt });
        Assert.Null(extraction.Error);

        var pages = PreemptPages(File.ReadAllBytes(Path.Combine(PreemptFolder, "postcopy-preempt.mig")));
        Assert.NotEmpty(pages);
        Assert.All(pages, page => Assert.True(page.Data.AsSpan().SequenceEqual(PcRamPage(extraction, page.Offset)), $"pc.ram page 0x{page.Offset:x} is not the preempt channel's copy"));

        // The main stream alone does not hold them: the channel's pages were sent on it only.
        using var again = MigrationInput.OpenFile(Path.Combine(PreemptFolder, "postcopy-forward.mig"));
        var mainOnly = StreamExtraction.Run(again, Ram("main-only"));
        Assert.Null(mainOnly.Error);
        Assert.Contains(pages, page => !page.Data.AsSpan().SequenceEqual(PcRamPage(mainOnly, page.Offset)));
    }

    private static byte[] PcRamPage(StreamExtraction extraction, ulong offset)
    {
        using var ram = File.OpenRead(extraction.Images.Single(image => image.Block.Name == "pc.ram").Path);
        var page = new byte[4096];
        ram.Position = (long)offset;
        ram.ReadExactly(page);
        return page;
    }

    [Fact]
    public void APreemptChannelCutShortIsTheErrorOfThePreemptChannel()
    {
        var bytes = File.ReadAllBytes(Path.Combine(PreemptFolder, "postcopy-preempt.mig"));
        var cut = Path.Combine(_work.FullName, "preempt-cut.mig");
        File.WriteAllBytes(cut, bytes.AsSpan(0, 5000).ToArray());
        using var main = MigrationInput.OpenFile(Path.Combine(PreemptFolder, "postcopy-forward.mig"));
        using var preempt = MigrationInput.OpenFile(cut);
        var extraction = StreamExtraction.Run(main, Ram("preempt-cut"), new StreamExtractionOptions { PreemptChannel = preempt });
        Assert.True(extraction.ErrorInPreemptChannel);
        Assert.Equal(MigrationRules.Truncated, extraction.Error?.Rule);
    }

    /// <summary>Each PAGE record of a preempt capture: a record that names its block carries its name, one that continues does not.</summary>
    private static List<(ulong Offset, byte[] Data)> PreemptPages(byte[] channel)
    {
        var pages = new List<(ulong Offset, byte[] Data)>();
        for (var at = 0; at + 8 <= channel.Length;)
        {
            var word = BinaryPrimitives.ReadUInt64BigEndian(channel.AsSpan(at));
            if ((word & 0x10) != 0)
            {
                break; // EOS
            }

            Assert.True((word & 0x08) != 0, $"the record at 0x{at:x} is not a PAGE");
            var header = (word & 0x20) != 0 ? 8 : 8 + 1 + channel[at + 8];
            pages.Add((word & ~0xfffUL, channel.AsSpan(at + header, 4096).ToArray()));
            at += header + 4096;
        }

        return pages;
    }

    private string Ram(string name) => Path.Combine(_work.FullName, name, "ram");

    private static string Sha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    public void Dispose() => _work.Delete(recursive: true);
}
