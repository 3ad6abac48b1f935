using Qmig.Wire.Comparison;
using Qmig.Wire.Extraction;
using Qmig.Wire.IO;
using Qmig.Wire.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Comparison;

/// <summary>Real streams extracted and compared: a stream with itself, with pages changed in its image, and with another guest's stream.</summary>
public sealed class ComparerTests : IDisposable
{
    private const string Paused = "data/pc-32m-paused/pc-32m-paused.mig";
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("qmig-compare-");

    [Fact]
    public void AStreamEqualsItself()
    {
        var a = Extract(Paused, "a");
        var b = Extract(Paused, "b");
        Assert.Empty(DeviceStateComparer.Compare(a.State, b.State));
        Assert.Empty(RamImageComparer.Compare(a, b));
    }

    [Fact]
    public void ChangedPagesComeBackAsOneRangeOfWholePages()
    {
        var a = Extract(Paused, "a");
        var b = Extract(Paused, "b");
        using (var ram = new FileStream(b.Images.Single(i => i.Block.Name == "pc.ram").Path, FileMode.Open, FileAccess.ReadWrite))
        {
            foreach (var offset in new[] { 0x5003L, 0x6ffeL })
            {
                ram.Position = offset;
                var old = ram.ReadByte();
                ram.Position = offset;
                ram.WriteByte((byte)~old);
            }
        }

        var difference = Assert.Single(RamImageComparer.Compare(a, b));
        Assert.Equal("pc.ram", difference.Block);
        Assert.Equal(DiffPresence.Both, difference.Presence);
        Assert.Equal(2, difference.Pages);
        Assert.Equal([new PageRange(0x5000, 0x7000)], difference.Ranges);
    }

    [Fact]
    public void AnotherGuestsDevicesDifferFieldByField()
    {
        var a = Extract(Paused, "a");
        var b = Extract("data/pc-64m-running/pc-64m-running.mig", "b");
        var devices = DeviceStateComparer.Compare(a.State, b.State);
        Assert.Contains(devices, d => d.Presence == DiffPresence.Both && d.Body is null && d.Fields.Count > 0);
        var ram = RamImageComparer.Compare(a, b);
        Assert.Contains(ram, r => r.Block == "pc.ram" && r.LengthA == 32 << 20 && r.LengthB == 64 << 20);
    }

    [Fact]
    public void UndecodedDevicesAreComparedByTheirBodies()
    {
        const string Stream = "data/pc-32m-no-vmdesc/pc-32m-no-vmdesc.mig";
        var twin = VmDescriptionDocument.Parse(File.ReadAllBytes("data/pc-32m-no-vmdesc/twin-vmdesc.json"));
        var decoded = Extract(Stream, "decoded", new StreamExtractionOptions { VmDescription = twin });
        var raw = Extract(Stream, "raw");
        Assert.Empty(DeviceStateComparer.Compare(decoded.State, raw.State));
        Assert.Contains(DeviceStateComparer.Compare(raw.State, Extract(Paused, "other").State), d => d.Body is { DifferingBytes: > 0 });
    }

    private StreamExtraction Extract(string path, string name, StreamExtractionOptions? options = null)
    {
        using var input = MigrationInput.OpenFile(path);
        var extraction = StreamExtraction.Run(input, Path.Combine(_work.FullName, name), options);
        Assert.Null(extraction.Error);
        return extraction;
    }

    public void Dispose() => _work.Delete(recursive: true);
}
