using System.IO.Compression;
using Xunit;

namespace Qmig.Wire.Tests.Extraction;

/// <summary>COMPRESS_PAGE payloads: one zlib stream that fills a page exactly, or a reason why not.</summary>
public class CompressedPageTests
{
    [Fact]
    public void AnEmptyPayloadIsRefusedWithAReason()
    {
        var page = new byte[4096];
        Assert.False(CompressedPage.TryInflate([], page, out var problem));
        Assert.Equal("is empty, not a zlib stream", problem);
    }

    /// <summary>A zlib header that asks for a preset dictionary (FDICT), which QEMU never sets: zlib answers Z_NEED_DICT.</summary>
    [Fact]
    public void AStreamThatNeedsADictionaryIsRefusedWithAReason()
    {
        var page = new byte[4096];
        Assert.False(CompressedPage.TryInflate([0x78, 0xbb, 0, 0, 0, 1, 0x03, 0x00], page, out var problem));
        Assert.StartsWith("is not a valid zlib stream", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void APageDeflatedAloneInflatesToItself()
    {
        var original = new byte[4096];
        new Random(7).NextBytes(original.AsSpan(0, 1000));
        var page = new byte[4096];

        Assert.True(CompressedPage.TryInflate(Deflate(original), page, out var problem), problem);
        Assert.Equal(original, page);
    }

    [Fact]
    public void APayloadOfHalfAPageIsRefused()
    {
        var page = new byte[4096];
        Assert.False(CompressedPage.TryInflate(Deflate(new byte[2048]), page, out var problem));
        Assert.Equal("inflates to 2048 bytes, not a 4096-byte page", problem);
    }

    private static byte[] Deflate(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Fastest))
        {
            zlib.Write(bytes);
        }

        return output.ToArray();
    }
}
