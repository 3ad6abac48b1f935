using Qmig.Postcopy.Source;
using Qmig.TestSupport;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;
using Xunit.Abstractions;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>
/// Every real saved stream in tests/data served as a guest: its pages, read one by one, are the
/// final RAM that <c>qmig extract</c> (<see cref="RamImageSet"/>) writes for it, block by block; its
/// configuration record and device sections are the file's own bytes.
/// </summary>
public sealed class SavedStreamGuestTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-guest-").FullName;

    public static TheoryData<string> SavedStreams() =>
    [
        "pc-32m-paused/pc-32m-paused.mig",
        "pc-64m-running/pc-64m-running.mig",
        "q35-devices/q35-devices.mig",
        "pc-32m-paused-qemu10/pc-32m-paused.mig",
        "pc-32m-xbzrle/pc-32m-xbzrle.mig",
        "pc-32m-compress/pc-32m-compress.mig",
        "pc-32m-no-footer/pc-32m-no-footer.mig",
        "pc-32m-no-vmdesc/pc-32m-no-vmdesc.mig",
        "pc-32m-return-path-qemu10/precopy-forward.mig",
        "pc-2m-mapped-ram-qemu10/pc-2m-mapped-ram-qemu10.mig",
        "pc-2m-mapped-ram-multifd-qemu10/pc-2m-mapped-ram-multifd-qemu10.mig",
    ];

    [Theory]
    [MemberData(nameof(SavedStreams))]
    public void TheGuestIsTheStreamsFinalState(string name)
    {
        var path = Data(name);
        using var guest = SavedStreamGuest.Open(path);
        using var reference = ReferenceReading.Of(path);
        AssertSameGuest(guest, reference, path);
    }

    [Fact]
    public void XbzrlePagesAreDecodedOnceAndOnlyThoseWhoseLastCopyIsADelta()
    {
        var path = Data("pc-32m-xbzrle/pc-32m-xbzrle.mig");
        using var guest = SavedStreamGuest.Open(path);
        using var reference = ReferenceReading.Of(path);
        Assert.True(reference.PagesEndingDecoded > 0, "the XBZRLE stream has no page whose last copy is a delta");
        Assert.Equal(reference.PagesEndingDecoded, guest.Stream.DecodedPages);
        output.WriteLine($"{guest.Stream.DecodedPages} pages decoded in {guest.Stream.DecodedPageBytes} bytes; index {guest.Stream.IndexBytes} bytes for {guest.RamBlocks.Sum(b => b.UsedLength)} bytes of RAM");
        AssertSameGuest(guest, reference, path);
    }

    [Fact]
    public void AMappedRamStreamNeedsNoIndexEntries()
    {
        using var guest = SavedStreamGuest.Open(Data("pc-2m-mapped-ram-qemu10/pc-2m-mapped-ram-qemu10.mig"));
        Assert.True(guest.Stream.IsMappedRam);
        Assert.Equal(0, guest.Stream.IndexBytes);
        Assert.Equal(0, guest.Stream.DecodedPageBytes);
    }

    /// <summary>
    /// A mapped-ram file's configuration lists mapped-ram, its only capability; a postcopy destination cannot
    /// have it on, so the guest's record is the file's without the whole capabilities subsection.
    /// </summary>
    [Theory]
    [InlineData("pc-2m-mapped-ram-qemu10/pc-2m-mapped-ram-qemu10.mig")]
    [InlineData("pc-2m-mapped-ram-multifd-qemu10/pc-2m-mapped-ram-multifd-qemu10.mig")]
    public void AMappedRamStreamIsSentWithoutTheMappedRamCapability(string name)
    {
        using var guest = SavedStreamGuest.Open(Data(name));
        var subsection = (byte[])[0x05, 26, .. "configuration/capabilities"u8, 0, 0, 0, 1, 0, 0, 0, 1, 10, .. "mapped-ram"u8];
        var file = guest.Stream.ConfigurationRecord.ToArray();
        var at = file.AsSpan().IndexOf(subsection);
        Assert.True(at > 0, "the file's configuration has no capabilities subsection with just mapped-ram");

        Assert.Equal([.. file[..at], .. file[(at + subsection.Length)..]], guest.ConfigurationRecord.ToArray());
        Assert.Equal(["configuration/capabilities"], guest.Stream.ConfigurationSubsections.Select(s => s.Name));
    }

    /// <summary>QEMU's <c>file:PATH,offset=N</c>: the same stream behind 64 KiB of something else.</summary>
    [Theory]
    [InlineData("pc-32m-paused/pc-32m-paused.mig")]
    [InlineData("pc-32m-compress/pc-32m-compress.mig")]
    public void AStreamAtAnOffsetIsTheStreamAlone(string name)
    {
        const int Offset = 64 << 10;
        var stream = File.ReadAllBytes(Data(name));
        var shifted = Path.Combine(_work, "shifted.mig");
        var prefix = new byte[Offset];
        new Random(7).NextBytes(prefix);
        File.WriteAllBytes(shifted, [.. prefix, .. stream]);

        using var guest = SavedStreamGuest.Open(shifted, new SavedStreamOptions { StartOffset = Offset });
        Assert.Equal(Offset, guest.Stream.StartOffset);
        using var reference = ReferenceReading.Of(shifted, Offset);
        AssertSameGuest(guest, reference, shifted);
        using var alone = SavedStreamGuest.Open(Data(name));
        AssertSamePages(alone, guest);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ALibvirtSaveImageIsTheStreamInside(bool bigEndian)
    {
        var stream = Data("pc-32m-paused/pc-32m-paused.mig");
        var image = LibvirtImage(stream, format: 0, bigEndian);

        using var guest = SavedStreamGuest.Open(image);
        Assert.NotNull(guest.Stream.LibvirtImage);
        Assert.Equal(LibvirtSaveImageFile.StreamOffset, guest.Stream.StartOffset);
        using var reference = ReferenceReading.Of(image, guest.Stream.StartOffset);
        AssertSameGuest(guest, reference, image);
        using var alone = SavedStreamGuest.Open(stream);
        AssertSamePages(alone, guest);
    }

    [Fact]
    public void ACompressedLibvirtSaveImageIsRefusedWithHowToDecompressIt()
    {
        var image = LibvirtImage(Data("pc-32m-paused/pc-32m-paused.mig"), format: 3, bigEndian: false);
        var refused = Assert.Throws<MigrationFormatException>(() => SavedStreamGuest.Open(image));
        Assert.Equal(MigrationRules.Unsupported, refused.Error.Rule);
        Assert.Equal(0, refused.Error.Offset);
        Assert.Contains("xz -dc", refused.Error.Message, StringComparison.Ordinal);
    }

    internal static void AssertSameGuest(SavedStreamGuest guest, ReferenceReading reference, string path)
    {
        var file = File.ReadAllBytes(path);
        Assert.Equal(reference.PageSize, guest.TargetPageSize);
        Assert.Equal(reference.Images.Select(i => (i.Block.Name, (long)i.Block.UsedLength)), guest.RamBlocks.Select(b => (b.IdStr, b.UsedLength)));
        Assert.NotEmpty(guest.RamBlocks);

        var scratch = new byte[guest.TargetPageSize];
        var zero = new byte[guest.TargetPageSize];
        for (var b = 0; b < reference.Images.Count; b++)
        {
            var image = reference.Images[b].Image;
            for (long page = 0; page < image.Length / guest.TargetPageSize; page++)
            {
                var expected = image.AsSpan((int)(page * guest.TargetPageSize), guest.TargetPageSize);
                var actual = guest.ReadPage(b, page, scratch);
                if (actual.IsEmpty)
                {
                    actual = zero;
                }

                Assert.True(expected.SequenceEqual(actual), $"{path}: block {guest.RamBlocks[b].IdStr} page {page} differs from extract's image");
            }
        }

        // The same pages read in runs (one preadv per run of records): runs of several lengths, so that runs
        // start and end anywhere, cross zero and decoded pages, and some reach past IOV_MAX pieces.
        int[] runLengths = [1, 7, 64, 600];
        for (var b = 0; b < reference.Images.Count; b++)
        {
            var image = reference.Images[b].Image;
            var pages = image.Length / guest.TargetPageSize;
            var turn = 0;
            for (long first = 0; first < pages; turn++)
            {
                var count = (int)Math.Min(runLengths[turn % runLengths.Length], pages - first);
                var destination = new byte[count * guest.TargetPageSize];
                var isZero = new bool[count];
                guest.ReadPages(b, first, destination, isZero);
                for (var i = 0; i < count; i++)
                {
                    var expected = image.AsSpan((int)((first + i) * guest.TargetPageSize), guest.TargetPageSize);
                    var actual = isZero[i] ? zero : destination.AsSpan(i * guest.TargetPageSize, guest.TargetPageSize);
                    Assert.True(expected.SequenceEqual(actual), $"{path}: block {guest.RamBlocks[b].IdStr} page {first + i}, read in a run of {count} from {first}, differs from extract's image");
                }

                first += count;
            }
        }

        // The configuration record: from the byte after the file header to the first section-list record;
        // the guest sends it as it is, but for mapped-ram (checked on its own below).
        Assert.True(file.AsSpan((int)reference.StreamStart + 8, (int)(reference.FirstSectionRecord - reference.StreamStart - 8)).SequenceEqual(guest.Stream.ConfigurationRecord.Span),
            $"{path}: the configuration record is not the file's");
        if (!guest.Stream.IsMappedRam)
        {
            Assert.Equal(guest.Stream.ConfigurationRecord.ToArray(), guest.ConfigurationRecord.ToArray());
        }

        Assert.Equal(0x07, guest.ConfigurationRecord.Span[0]);
        Assert.StartsWith("pc-", guest.MachineType, StringComparison.Ordinal);

        // The device sections: the file's bytes from the end of the last RAM section to QEMU_VM_EOF.
        Assert.NotEmpty(guest.DeviceSections);
        var devices = guest.DeviceSections.SelectMany(s => s.ToArray()).ToArray();
        Assert.True(file.AsSpan((int)reference.RamEnd, (int)(reference.EndOfSections - reference.RamEnd)).SequenceEqual(devices),
            $"{path}: the device sections are not the file's bytes between the RAM section and EOF ({devices.Length} bytes against {reference.EndOfSections - reference.RamEnd})");
        Assert.All(guest.DeviceSections, section => Assert.Equal(0x04, section.Span[0]));
        Assert.Empty(guest.EarlySetupSections);
        Assert.Null(guest.DirtyPages);
    }

    internal static void AssertSamePages(SavedStreamGuest expected, SavedStreamGuest actual)
    {
        Assert.Equal(expected.RamBlocks, actual.RamBlocks);
        Assert.Equal(expected.ConfigurationRecord.ToArray(), actual.ConfigurationRecord.ToArray());
        Assert.Equal(expected.DeviceSections.Select(s => s.ToArray()), actual.DeviceSections.Select(s => s.ToArray()));
        var a = new byte[expected.TargetPageSize];
        var b = new byte[expected.TargetPageSize];
        for (var block = 0; block < expected.RamBlocks.Count; block++)
        {
            for (long page = 0; page < expected.RamBlocks[block].UsedLength / expected.TargetPageSize; page++)
            {
                Assert.True(expected.ReadPage(block, page, a).SequenceEqual(actual.ReadPage(block, page, b)), $"block {block} page {page}");
            }
        }
    }

    /// <summary>A libvirt save image as libvirt's src/qemu/qemu_saveimage.h lays it out, around a real stream.</summary>
    private string LibvirtImage(string stream, uint format, bool bigEndian) =>
        LibvirtSaveImageFile.Write(Path.Combine(_work, $"guest-{format}-{bigEndian}.save"), stream, format, bigEndian);

    internal static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
