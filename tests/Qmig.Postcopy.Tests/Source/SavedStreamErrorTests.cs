using Qmig.TestSupport;
using Qmig.Postcopy.Source;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>
/// Streams a saved guest cannot be made of, and damaged ones: each is refused at open with an
/// error naming the byte offset, the record and the QMIG rule; nothing crashes, and a stream that
/// opens serves every page from inside its blocks.
/// </summary>
public sealed class SavedStreamErrorTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-guest-errors-").FullName;

    [Fact]
    public void AnIgnoreSharedStreamIsRefusedAtItsFirstBlock()
    {
        var path = SavedStreamGuestTests.Data("pc-32m-ignore-shared-uuid/pc-32m-ignore-shared-uuid.mig");
        var refused = Assert.Throws<MigrationFormatException>(() => SavedStreamGuest.Open(path));
        Assert.Equal(MigrationRules.Unsupported, refused.Error.Rule);
        Assert.Equal("ram_block_entry", refused.Error.Record);
        Assert.Contains("x-ignore-shared", refused.Error.Message, StringComparison.Ordinal);
        // The offset is the first block entry's: its length byte, then the first block's name.
        var file = File.ReadAllBytes(path);
        var nameLength = file[refused.Error.Offset];
        Assert.Equal("pc.ram", System.Text.Encoding.ASCII.GetString(file, (int)refused.Error.Offset + 1, nameLength));
    }

    [Fact]
    public void ARecordedPostcopyMigrationIsRefusedAtItsFirstPostcopyCommand()
    {
        var path = SavedStreamGuestTests.Data("pc-32m-postcopy/postcopy-forward.mig");
        var refused = Assert.Throws<MigrationFormatException>(() => SavedStreamGuest.Open(path));
        Assert.Equal(MigrationRules.Unsupported, refused.Error.Rule);
        Assert.Contains("OUT.mig", refused.Error.Message, StringComparison.Ordinal);
        Assert.Equal(0x08, File.ReadAllBytes(path)[refused.Error.Offset]);
    }

    [Fact]
    public void ATruncatedStreamIsRefused()
    {
        var stream = File.ReadAllBytes(SavedStreamGuestTests.Data("pc-32m-paused/pc-32m-paused.mig"));
        var cut = Write("cut.mig", stream.AsSpan(0, stream.Length / 2).ToArray());
        var refused = Assert.Throws<MigrationFormatException>(() => SavedStreamGuest.Open(cut));
        Assert.Equal(MigrationRules.Truncated, refused.Error.Rule);
        Assert.True(refused.Error.Offset <= stream.Length / 2, refused.Error.ToString());
    }

    [Fact]
    public void MoreRamThanTheCapIsRefusedBeforeItsIndexIsMade()
    {
        var path = SavedStreamGuestTests.Data("pc-32m-paused/pc-32m-paused.mig");
        var refused = Assert.Throws<MigrationFormatException>(() => SavedStreamGuest.Open(path, new SavedStreamOptions { MaxRamBytes = 16 << 20 }));
        Assert.Equal(MigrationRules.RecordTooLarge, refused.Error.Rule);
        Assert.Contains("MaxRamBytes", refused.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MoreDecodedPagesThanTheCapAreRefusedAtTheRecordThatWouldPassIt()
    {
        var path = SavedStreamGuestTests.Data("pc-32m-xbzrle/pc-32m-xbzrle.mig");
        var refused = Assert.Throws<MigrationFormatException>(() => SavedStreamGuest.Open(path, new SavedStreamOptions { MaxDecodedPageBytes = 0 }));
        Assert.Equal(MigrationRules.RecordTooLarge, refused.Error.Rule);
        Assert.Contains("MaxDecodedPageBytes", refused.Error.Message, StringComparison.Ordinal);
        // The record is an XBZRLE one: its flags word has 0x40.
        var word = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(File.ReadAllBytes(path).AsSpan((int)refused.Error.Offset));
        Assert.Equal(0x40UL, word & 0x40);
    }

    [Fact]
    public void ACompressedPageThatDoesNotInflateIsRefusedAtItsRecord()
    {
        var path = SavedStreamGuestTests.Data("pc-32m-compress/pc-32m-compress.mig");
        using var reference = ReferenceReading.Of(path);
        var (payload, length) = reference.FirstCompressed;
        Assert.True(payload > 0, "the compress stream has no COMPRESS_PAGE record");
        var stream = File.ReadAllBytes(path);
        // The zlib header stays, the deflate data becomes noise.
        new Random(3).NextBytes(stream.AsSpan((int)payload + 2, length - 2));
        var damaged = Write("damaged-compress.mig", stream);

        var refused = Assert.Throws<MigrationFormatException>(() => SavedStreamGuest.Open(damaged));
        Assert.Equal(MigrationRules.BadCompressedPage, refused.Error.Rule);
        Assert.InRange(refused.Error.Offset, payload - 4 - 8 - 256, payload - 4 - 8);
    }

    public static TheoryData<string, int> DamageCases()
    {
        var cases = new TheoryData<string, int>();
        string[] streams = ["pc-32m-xbzrle/pc-32m-xbzrle.mig", "pc-32m-compress/pc-32m-compress.mig", "pc-2m-mapped-ram-qemu10/pc-2m-mapped-ram-qemu10.mig"];
        foreach (var stream in streams)
        {
            for (var seed = 1; seed <= 40; seed++)
            {
                cases.Add(stream, seed);
            }
        }

        return cases;
    }

    /// <summary>Seeded damage of real streams: refused with an offset inside the file, or served whole.</summary>
    [Theory]
    [MemberData(nameof(DamageCases))]
    public void ADamagedStreamIsRefusedWithAnOffsetOrServedFromInsideItsBlocks(string name, int seed)
    {
        var stream = File.ReadAllBytes(SavedStreamGuestTests.Data(name));
        var what = StreamDamage.Apply(stream, new Random(seed), out var length);
        var path = Write($"damaged-{seed}.mig", stream.AsSpan(0, length).ToArray());

        SavedStreamGuest guest;
        try
        {
            guest = SavedStreamGuest.Open(path);
        }
        catch (MigrationFormatException refused)
        {
            Assert.InRange(refused.Error.Offset, 0, length);
            Assert.StartsWith("QMIG", refused.Error.Rule.Id, StringComparison.Ordinal);
            return;
        }

        using (guest)
        {
            var scratch = new byte[guest.TargetPageSize];
            for (var block = 0; block < guest.RamBlocks.Count; block++)
            {
                for (long page = 0; page < guest.RamBlocks[block].UsedLength / guest.TargetPageSize; page++)
                {
                    var bytes = guest.ReadPage(block, page, scratch);
                    Assert.True(bytes.IsEmpty || bytes.Length == guest.TargetPageSize, $"{what}: block {block} page {page} has {bytes.Length} bytes");
                }
            }
        }
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_work, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
