using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// A stream that does not start at the file's beginning: QEMU 10.0 migrating to
/// <c>file:PATH,offset=N</c> (what libvirt does behind its save-image header), with and without
/// mapped-ram, whose bitmap and page offsets are absolute file offsets. dump, stats, check and
/// extract read it with <c>--offset N</c>; the extracted RAM equals the stopped source's memory.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class FileOffsetStreamTests(ITestOutputHelper output) : IDisposable
{
    private const int Offset = 64 << 10;

    private readonly string _work = Directory.CreateTempSubdirectory("qmig-offset-").FullName;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AStreamBehindAHeaderIsReadWithOffset(bool mappedRam)
    {
        var qemu = QemuBuild.Backports100;
        var file = Path.Combine(_work, "guest.save");
        var header = Enumerable.Range(0, Offset).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(file, header);
        byte[] sourceRam;
        using (var source = new QemuGuest(qemu, _work, "source", ReceivePostcopyTests.AssembleGuest(_work, "guest")))
        {
            source.WaitGuestRunning();
            source.Qmp.Execute("stop");
            if (mappedRam)
            {
                source.EnableCapabilities("mapped-ram");
            }

            source.Qmp.Execute("migrate", new { uri = $"file:{file},offset={Offset}" });
            var final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(60), "the migration to the file");
            output.WriteLine("source query-migrate: " + final.ToJsonString());
            sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
        }

        Assert.True(File.ReadAllBytes(file).AsSpan(0, Offset).SequenceEqual(header), "QEMU changed the bytes before its offset");
        var offset = "0x" + Offset.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

        var (statsExit, statsJson, statsError) = QmigProcess.Run("stats", file, "--offset", offset, "--format", "json");
        Assert.True(statsExit == 0, statsError);
        var stats = JsonNode.Parse(statsJson)!;
        Assert.Equal(new FileInfo(file).Length, stats["consumed"]!.GetValue<long>());
        Assert.Equal(mappedRam, stats["mapped_ram"] is JsonObject blocks && blocks.Count > 0);

        var (checkExit, _, checkError) = QmigProcess.Run("check", file, "--offset", "64K");
        Assert.True(checkExit == 0, checkError);
        var (dumpExit, dump, _) = QmigProcess.Run("dump", file, "--offset", offset);
        Assert.Equal(0, dumpExit);
        Assert.StartsWith($"0x{Offset:x8}       8  FILE_HEADER", dump);

        var extracted = Path.Combine(_work, "extract");
        var (extractExit, _, extractError) = QmigProcess.Run("extract", file, "--offset", offset, "-o", extracted);
        Assert.True(extractExit == 0, extractError);
        Assert.True(File.Exists(Path.Combine(extracted, "state.json")), "no state.json");
        GuestMemory.AssertSame(sourceRam, File.ReadAllBytes(Path.Combine(extracted, "ram", "pc.ram")), "extract --offset (pc.ram)", GuestMemory.VgaWindow);

        // Without the offset the header is not a stream, and the error says where.
        var (plainExit, _, plainError) = QmigProcess.Run("stats", file);
        Assert.Equal(1, plainExit);
        Assert.Contains(":0x0: error QMIG", plainError, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
