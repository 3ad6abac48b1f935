using System.Text.Json.Nodes;
using Qmig.Cli.Tests.Receive;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Proxy;

/// <summary>
/// Postcopy recovery through <c>qmig proxy</c>: the source pauses (<c>migrate-pause</c>), the
/// destination waits on a new address (<c>migrate-recover</c>, the proxy's <c>--recover-to</c>), and
/// the source resumes to the proxy, which forwards the resumed connection there; the migration
/// completes and the record holds both main connections.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class ProxyRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-proxy-recover-").FullName;

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void PausedPostcopyResumesThroughTheProxy(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var disk = ReceivePostcopyTests.AssembleGuest(_work, "guest");
        using var destination = new QemuGuest(qemu, _work, "destination", Copy(disk, "destination"), "-incoming", "defer");
        destination.EnableCapabilities("postcopy-ram");
        var destinationPort = ProxyProcess.FreePort();
        var recoverPort = ProxyProcess.FreePort();
        destination.Qmp.Execute("migrate-incoming", new { uri = $"tcp:127.0.0.1:{destinationPort}" });

        var record = Path.Combine(_work, "record");
        var statsFile = Path.Combine(_work, "stats.json");
        using var proxy = new ProxyProcess(_work, $"tcp:127.0.0.1:{destinationPort}",
            "--recover-to", $"tcp:127.0.0.1:{recoverPort}", "--record", record, "--stats", statsFile);
        using (var source = new QemuGuest(qemu, _work, "source", Copy(disk, "source")))
        {
            source.WaitGuestRunning();
            // Postcopy at 32 KiB/s keeps the background pages going long enough to pause it.
            source.StartPostcopyMigration(proxy.Uri, preempt: false, postcopyBandwidth: 32 << 10, precopyRounds: 0);
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-active", TimeSpan.FromSeconds(120), "postcopy");
            // Paused only once the guest runs on the destination: a break before POSTCOPY_RUN is not recoverable.
            WaitRunning(destination);
            source.Qmp.Execute("migrate-pause");
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-paused", TimeSpan.FromSeconds(60), "the source's pause");
            destination.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-paused", TimeSpan.FromSeconds(60), "the destination's pause");

            destination.Qmp.Execute("migrate-recover", new { uri = $"tcp:127.0.0.1:{recoverPort}" });
            source.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["max-postcopy-bandwidth"] = 0 });
            source.Qmp.Execute("migrate", new { uri = proxy.Uri, resume = true });
            var final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(180), "completion after the resume");
            output.WriteLine("source query-migrate: " + final.ToJsonString());
        }

        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(60));
        destination.Qmp.Execute("quit");
        var (exit, stderr) = proxy.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(stderr);
        Assert.True(exit == 0, $"qmig proxy exited {exit}: {stderr}");
        Assert.Contains("postcopy is paused", stderr, StringComparison.Ordinal);

        var stats = JsonNode.Parse(File.ReadAllText(statsFile))!;
        output.WriteLine(stats.ToJsonString());
        Assert.Equal("completed", stats["outcome"]!.GetValue<string>());
        Assert.Equal(1, stats["resumes"]!.GetValue<int>());
        Assert.Empty(stats["decode_errors"]!.AsArray());
        var mains = stats["connections"]!.AsArray().Where(c => c!["channel"]!.GetValue<string>() == "main").ToArray();
        Assert.Equal([0, 1], mains.Select(c => c!["generation"]!.GetValue<int>()));
        foreach (var main in mains)
        {
            var file = Path.Combine(record, main!["forward_file"]!.GetValue<string>());
            Assert.True(new FileInfo(file).Length > 0 && new FileInfo(file).Length == main["forward_bytes"]!.GetValue<long>(), $"{file} does not hold what the proxy forwarded");
        }

        Assert.True(File.Exists(Path.Combine(record, "main-forward.1.mig")), "the resumed connection was not recorded on its own");
        Assert.True(new FileInfo(Path.Combine(record, "main-return.1.bin")).Length > 0, "the resumed connection's return path (RECV_BITMAP, RESUME_ACK) was not recorded");
    }

    private static void WaitRunning(QemuGuest guest)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (guest.Qmp.Execute("query-status")!["status"]?.GetValue<string>() != "running")
        {
            Assert.True(DateTime.UtcNow < deadline, "the destination's guest did not start running within 120 s");
            Thread.Sleep(50);
        }
    }

    private string Copy(string disk, string name)
    {
        var copy = Path.Combine(_work, name + ".img");
        File.Copy(disk, copy);
        return copy;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
