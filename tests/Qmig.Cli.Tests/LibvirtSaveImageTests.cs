using System.Text.Json.Nodes;
using Qmig.Cli.Tests.State;
using Qmig.TestSupport;
using Xunit;

namespace Qmig.Cli.Tests;

/// <summary>
/// libvirt save images (<c>virsh save</c>) are read as the QEMU stream inside them. No libvirt runs
/// here, so the images are a real QEMU 7.2 stream behind a header laid out as libvirt's
/// src/qemu/qemu_saveimage.h declares it (magic, native-endian version, data_len, was_running,
/// format, cookieOffset, 14 unused) and a padded domain XML, as libvirt writes it.
/// </summary>
public sealed class LibvirtSaveImageTests : IDisposable
{
    private readonly TempDirectory _work = new();

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void TheStreamInsideIsReadAsTheStreamAlone(bool bigEndian, bool partial)
    {
        var stream = Fixtures.Stream("pc-32m-paused");
        var image = WriteImage(stream, format: 0, bigEndian, partial);

        var (code, json, error) = QmigProcess.Run("stats", image, "--format", "json");
        Assert.True(code == 0, error);
        Assert.Contains("a libvirt save image", error, StringComparison.Ordinal);
        Assert.Equal(partial, error.Contains("had not finished writing", StringComparison.Ordinal));
        var inside = JsonNode.Parse(json)!;
        var alone = JsonNode.Parse(QmigProcess.Run("stats", stream, "--format", "json").Output)!;
        Assert.Equal(new FileInfo(image).Length, inside["consumed"]!.GetValue<long>());
        Assert.Equal(alone["records"]!.ToJsonString(), inside["records"]!.ToJsonString());
        Assert.Equal(alone["ram"]!.ToJsonString(), inside["ram"]!.ToJsonString());

        Assert.Equal(0, QmigProcess.Run("extract", image, "-o", _work.Combine("from-image")).ExitCode);
        Assert.Equal(0, QmigProcess.Run("extract", stream, "-o", _work.Combine("alone")).ExitCode);
        foreach (var file in new[] { "state.json", Path.Combine("ram", "pc.ram") })
        {
            Assert.True(File.ReadAllBytes(_work.Combine("from-image", file)).AsSpan().SequenceEqual(File.ReadAllBytes(_work.Combine("alone", file))), $"{file} differs");
        }
    }

    [Fact]
    public void ACompressedImageIsUnsupportedAndSaysHowToDecompressIt()
    {
        var image = WriteImage(Fixtures.Stream("pc-32m-paused"), format: 3, bigEndian: false, partial: false);
        var (code, _, error) = QmigProcess.Run("stats", image);
        Assert.Equal(3, code);
        Assert.Contains("xz-compressed", error, StringComparison.Ordinal);
        Assert.Contains($"tail -c +{LibvirtSaveImageFile.StreamOffset + 1} ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExplicitOffsetIsTakenAsGiven()
    {
        var image = WriteImage(Fixtures.Stream("pc-32m-paused"), format: 0, bigEndian: false, partial: false);
        var (code, _, error) = QmigProcess.Run("stats", image, "--offset", "0");
        Assert.Equal(1, code);
        Assert.Contains(":0x0: error QMIG", error, StringComparison.Ordinal);
    }

    private string WriteImage(string stream, uint format, bool bigEndian, bool partial) =>
        LibvirtSaveImageFile.Write(_work.Combine($"guest-{format}-{bigEndian}-{partial}.save"), stream, format, bigEndian, partial);

    public void Dispose() => _work.Dispose();
}
