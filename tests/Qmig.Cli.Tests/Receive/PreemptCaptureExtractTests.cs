using System.Diagnostics;
using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// <c>qmig extract MAIN --preempt PREEMPT</c> against the truth: a real QEMU (7.2, and 10.0, whose
/// preempt channel opens only when postcopy starts and ends without EOS) migrates to another of
/// its version with postcopy and postcopy-preempt through tests/fixtures/record_proxy.py, which
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
        var destinationPort = FreePort();
        destination.Qmp.Execute("migrate-incoming", new { uri = $"tcp:127.0.0.1:{destinationPort}" });

        var main = Path.Combine(_work, "forward.mig");
        using var proxy = StartProxy(destinationPort, main, Path.Combine(_work, "return-path.bin"), out var proxyPort);
        byte[] sourceRam;
        using (var source = new QemuGuest(qemu, _work, "source", Copy(disk, "source")))
        {
            source.WaitGuestRunning();
            // Postcopy at 256 KiB/s: the running destination faults on the dirty guest's pages before
            // the background sender brings them, so they come on the preempt channel.
            source.StartPostcopyMigration($"tcp:127.0.0.1:{proxyPort}", preempt: true, postcopyBandwidth: 256 << 10);
            var final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "completion");
            output.WriteLine("source query-migrate: " + final.ToJsonString());
            sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
        }

        destination.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(60), "the destination's completion");
        destination.Qmp.Execute("quit");
        Assert.True(proxy.WaitForExit(30_000), "the recording proxy did not finish");
        var preempt = main + ".1";
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

    private Process StartProxy(int destinationPort, string forward, string returnPath, out int port)
    {
        var portFile = Path.Combine(_work, "proxy.port");
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "fixtures", "record_proxy.py"), "--listen-port-file", portFile,
                     "--to", destinationPort.ToString(CultureInfo.InvariantCulture), "--forward", forward, "--return", returnPath, "--max-conns", "2"])
        {
            start.ArgumentList.Add(arg);
        }

        var proxy = Process.Start(start) ?? throw new InvalidOperationException("could not start python3 for the recording proxy");
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(portFile) || new FileInfo(portFile).Length == 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30) && !proxy.HasExited, "the recording proxy did not start listening: " + (proxy.HasExited ? proxy.StandardError.ReadToEnd() : ""));
            Thread.Sleep(20);
        }

        port = int.Parse(File.ReadAllText(portFile).Trim(), CultureInfo.InvariantCulture);
        return proxy;
    }

    private string Copy(string disk, string name)
    {
        var copy = Path.Combine(_work, name + ".img");
        File.Copy(disk, copy);
        return copy;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
