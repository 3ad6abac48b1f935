using System.Buffers.Binary;
using Qmig.Postcopy.Source;
using Qmig.Wire.Extraction;
using Xunit.Abstractions;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>
/// A saved stream's page index kept in a file (<see cref="SavedStreamOptions.IndexFile"/>): a guest
/// opened from it is the guest a scan gives, page for page; an index of another version of the file,
/// a damaged one, or a forged one that points outside the file is never used; a mapped-ram stream
/// keeps none; an index that cannot be written is reported and the stream still opens.
/// </summary>
public sealed class SavedStreamIndexFileTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-index-").FullName;

    public static TheoryData<string> PrecopyStreams() =>
    [
        .. SavedStreamGuestTests.SavedStreams().Cast<object[]>().Select(row => (string)row[0]).Where(name => !name.Contains("mapped-ram", StringComparison.Ordinal)),
    ];

    [Theory]
    [MemberData(nameof(PrecopyStreams))]
    public void AGuestOpenedFromAKeptIndexIsTheGuestAScanGives(string name)
    {
        var path = SavedStreamGuestTests.Data(name);
        var index = Path.Combine(_work, "guest.idx");

        using (var first = SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index }))
        {
            Assert.Equal(new SavedStreamIndexStatus(SavedStreamIndexSource.Scanned, Saved: true, "there is none yet", null), first.Stream.Index);
        }

        using var loaded = SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index });
        Assert.Equal(new SavedStreamIndexStatus(SavedStreamIndexSource.IndexFile, Saved: false, null, null), loaded.Stream.Index);
        using var reference = ReferenceReading.Of(path);
        SavedStreamGuestTests.AssertSameGuest(loaded, reference, path);
        using var scanned = SavedStreamGuest.Open(path);
        SavedStreamGuestTests.AssertSamePages(scanned, loaded);
        Assert.Equal(scanned.Stream.DecodedPages, loaded.Stream.DecodedPages);
        Assert.Equal(scanned.MachineType, loaded.MachineType);
        Assert.Equal(scanned.Stream.ConfigurationSubsections.Select(s => (s.Name, s.Record.ToArray())), loaded.Stream.ConfigurationSubsections.Select(s => (s.Name, s.Record.ToArray())));
        output.WriteLine($"{name}: index file {new FileInfo(index).Length} bytes, {loaded.Stream.DecodedPages} decoded pages");
    }

    [Fact]
    public void AnIndexOfAnEarlierVersionOfTheFileIsRebuilt()
    {
        var path = Copy("pc-32m-paused/pc-32m-paused.mig");
        var index = Path.Combine(_work, "guest.idx");
        SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index }).Dispose();

        // The same bytes written again: only the file's times say it is another version.
        File.WriteAllBytes(path, File.ReadAllBytes(path));
        using var guest = SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index });
        Assert.Equal(SavedStreamIndexSource.Scanned, guest.Stream.Index.Source);
        Assert.True(guest.Stream.Index.Saved);
        Assert.Contains("changed since it was made", guest.Stream.Index.NotLoadedBecause, StringComparison.Ordinal);

        using var again = SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index });
        Assert.Equal(SavedStreamIndexSource.IndexFile, again.Stream.Index.Source);
    }

    [Fact]
    public void AnIndexMadeFromAnotherStartOffsetIsNotUsed()
    {
        const int Offset = 4096;
        var stream = File.ReadAllBytes(SavedStreamGuestTests.Data("pc-32m-paused/pc-32m-paused.mig"));
        var path = Path.Combine(_work, "shifted.mig");
        File.WriteAllBytes(path, [.. new byte[Offset], .. stream]);
        var index = Path.Combine(_work, "guest.idx");
        SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index, StartOffset = Offset }).Dispose();

        using var guest = SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index, StartOffset = Offset, TargetPageSize = 8192 });
        Assert.Equal(SavedStreamIndexSource.Scanned, guest.Stream.Index.Source);
        Assert.Contains("another start offset or target page size", guest.Stream.Index.NotLoadedBecause, StringComparison.Ordinal);
    }

    /// <summary>Any one byte of the index changed, or the index cut short: never loaded, always a reason, and the guest is the scan's.</summary>
    [Fact]
    public void ADamagedIndexIsNeverLoaded()
    {
        var path = SavedStreamGuestTests.Data("pc-32m-xbzrle/pc-32m-xbzrle.mig");
        var index = Path.Combine(_work, "guest.idx");
        SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index }).Dispose();
        var good = File.ReadAllBytes(index);
        using var scanned = SavedStreamGuest.Open(path);
        for (var seed = 0; seed < 60; seed++)
        {
            var random = new Random(seed);
            var damaged = (byte[])good.Clone();
            var at = random.Next(damaged.Length);
            if (seed % 4 == 3)
            {
                damaged = damaged[..at];
            }
            else
            {
                damaged[at] ^= (byte)random.Next(1, 256);
            }

            var damagedIndex = Path.Combine(_work, $"damaged-{seed}.idx");
            File.WriteAllBytes(damagedIndex, damaged);
            using var guest = SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = damagedIndex });
            Assert.True(guest.Stream.Index.Source == SavedStreamIndexSource.Scanned, $"seed {seed}: a damaged index (byte {at} of {good.Length}) was loaded");
            Assert.False(string.IsNullOrEmpty(guest.Stream.Index.NotLoadedBecause), $"seed {seed}: no reason given");
            SavedStreamGuestTests.AssertSamePages(scanned, guest);
        }
    }

    /// <summary>An index whose checksum is right but whose entries point past the file or at decoded pages that do not exist: refused, naming the entry.</summary>
    [Theory]
    [InlineData(1UL << 62, "a whole page past the end of the file")]
    [InlineData(2UL << 62, "a zlib stream past the end of the file")]
    [InlineData(3UL << 62, "a decoded page that does not exist")]
    public void AForgedIndexThatPointsOutsideTheFileIsRefused(ulong kind, string what)
    {
        var path = SavedStreamGuestTests.Data("pc-32m-paused/pc-32m-paused.mig");
        var index = Path.Combine(_work, "guest.idx");
        SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index }).Dispose();
        var forged = File.ReadAllBytes(index);
        var firstEntry = 16 + BinaryPrimitives.ReadInt32LittleEndian(forged.AsSpan(12));
        BinaryPrimitives.WriteUInt64LittleEndian(forged.AsSpan(firstEntry), kind | (ulong)(new FileInfo(path).Length + 8));
        System.IO.Hashing.XxHash128.Hash(forged.AsSpan(0, forged.Length - 16)).CopyTo(forged.AsSpan(forged.Length - 16));
        File.WriteAllBytes(index, forged);

        using var guest = SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = index });
        Assert.True(guest.Stream.Index.Source == SavedStreamIndexSource.Scanned, $"an index entry for {what} was loaded");
        Assert.Contains("its entry for page 0 of block 'pc.ram'", guest.Stream.Index.NotLoadedBecause, StringComparison.Ordinal);
        output.WriteLine(guest.Stream.Index.NotLoadedBecause);
    }

    [Fact]
    public void AMappedRamStreamKeepsNoIndex()
    {
        var index = Path.Combine(_work, "guest.idx");
        using var guest = SavedStreamGuest.Open(SavedStreamGuestTests.Data("pc-2m-mapped-ram-qemu10/pc-2m-mapped-ram-qemu10.mig"), new SavedStreamOptions { IndexFile = index });
        Assert.Equal(new SavedStreamIndexStatus(SavedStreamIndexSource.MappedRamBitmaps, Saved: false, null, null), guest.Stream.Index);
        Assert.False(File.Exists(index));
    }

    [Fact]
    public void AnIndexThatCannotBeWrittenIsReportedAndTheStreamStillOpens()
    {
        var path = SavedStreamGuestTests.Data("pc-32m-paused/pc-32m-paused.mig");
        var notADirectory = Path.Combine(_work, "file");
        File.WriteAllText(notADirectory, "");
        using var guest = SavedStreamGuest.Open(path, new SavedStreamOptions { IndexFile = Path.Combine(notADirectory, "guest.idx") });
        Assert.Equal(SavedStreamIndexSource.Scanned, guest.Stream.Index.Source);
        Assert.False(guest.Stream.Index.Saved);
        Assert.False(string.IsNullOrEmpty(guest.Stream.Index.NotSavedBecause));
        using var scanned = SavedStreamGuest.Open(path);
        SavedStreamGuestTests.AssertSamePages(scanned, guest);
    }

    private string Copy(string name)
    {
        var path = Path.Combine(_work, Path.GetFileName(name));
        File.Copy(SavedStreamGuestTests.Data(name), path);
        return path;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
