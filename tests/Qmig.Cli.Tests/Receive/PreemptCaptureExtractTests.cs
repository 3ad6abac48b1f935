using Qmig.Cli.Tests.Proxy;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// <c>qmig extract MAIN --preempt PREEMPT</c> against the truth: a real QEMU (7.2, and 10.0, whose
/// preempt channel opens only when postcopy starts and ends without EOS) migrates to another of
/// its version with postcopy and postcopy-preempt through <c>qmig proxy --record</c>, which
/// records both channels; the RAM we extract from the two captures equals the stopped source's
/// memory, and without the preempt channel it does not.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class PreemptCaptureExtractTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-preempt-capture-").FullName;

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void BothChannelsTogetherGiveTheSourcesFinalRam(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var disk = ReceivePostcopyTests.AssembleGuest(_work, "guest");
        using var destination = new QemuGuest(qemu, _work, "destination", Copy(disk, "destination"), "-incoming", "defer");
        destination.EnableCapabilities("postcopy-ram", "postcopy-preempt");
        var destinationPort = ProxyProcess.FreePort();
        destination.Qmp.Execute("migrate-incoming", new { uri = $"tcp:127.0.0.1:{destinationPort}" });

        var record = Path.Combine(_work, "record");
        using var proxy = new ProxyProcess(_work, $"tcp:127.0.0.1:{destinationPort}", "--record", record);
        byte[] sourceRam;
        using (var source = new QemuGuest(qemu, _work, "source", Copy(disk, "source")))
        {
            source.WaitGuestRunning();
            // Postcopy at once and at 256 KiB/s: the running destination faults on the dirty guest's
            // pages before the background sender brings them, so they come on the preempt channel.
            // Waiting for precopy rounds first would let a loaded machine send most pages before the switch.
            source.StartPostcopyMigration(proxy.Uri, preempt: true, postcopyBandwidth: 256 << 10, precopyRounds: 0);
            var final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "completion");
            output.WriteLine("source query-migrate: " + final.ToJsonString());
            sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
        }

        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(60));
        destination.Qmp.Execute("quit");
        var (exit, stderr) = proxy.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"qmig proxy exited {exit}: {stderr}");
        var main = Path.Combine(record, "main-forward.mig");
        var preempt = Path.Combine(record, "preempt-forward.mig");
        Assert.True(File.Exists(preempt) && new FileInfo(preempt).Length > 0, "the proxy recorded no preempt channel");

        var both = Extract(main, "both", "--preempt", preempt);
        GuestMemory.AssertSame(sourceRam, both, "extract with --preempt (pc.ram)", GuestMemory.VgaWindow);
        var mainOnly = Extract(main, "main-only");
        Assert.True(GuestMemory.FirstDifferingPage(sourceRam, mainOnly, GuestMemory.VgaWindow) is not null, "the main channel alone already held the final RAM: the preempt channel carried nothing to test");
    }

    private byte[] Extract(string main, string name, params string[] extra)
    {
        var directory = Path.Combine(_work, name);
        var (exit, _, error) = QmigProcess.Run(["extract", main, "-o", directory, .. extra]);
        // A postcopy stream carries no vmdesc: the RAM images are written and the exit code says so.
        Assert.True(exit == 2 && error.Contains("vmdesc", StringComparison.Ordinal), $"extract {name}: {exit} {error}");
        return File.ReadAllBytes(Path.Combine(directory, "ram", "pc.ram"));
    }

    private string Copy(string disk, string name)
    {
        var copy = Path.Combine(_work, name + ".img");
        File.Copy(disk, copy);
        return copy;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
