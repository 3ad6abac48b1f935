using Qmig.Cli.Tests.Receive;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Proxy;

/// <summary>
/// A destination that dies in the middle of a migration through <c>qmig proxy</c>: the proxy says
/// which side closed, in which state and at which offset, closes the source's connection (whose
/// migration then fails instead of hanging), and exits non-zero.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class ProxySideDiesTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-proxy-dies-").FullName;

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void KilledDestinationIsNamedAndTheSourceIsClosed(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var disk = ReceivePostcopyTests.AssembleGuest(_work, "guest");
        using var destination = new QemuGuest(qemu, _work, "destination", Copy(disk, "destination"), "-incoming", "defer");
        var destinationPort = ProxyProcess.FreePort();
        destination.Qmp.Execute("migrate-incoming", new { uri = $"tcp:127.0.0.1:{destinationPort}" });
        using var proxy = new ProxyProcess(_work, $"tcp:127.0.0.1:{destinationPort}");
        using var source = new QemuGuest(qemu, _work, "source", Copy(disk, "source"));
        source.WaitGuestRunning();
        // 64 KiB/s: the precopy is still running when the destination is killed.
        source.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["max-bandwidth"] = 64 << 10 });
        source.Qmp.Execute("migrate", new { uri = proxy.Uri });
        source.Qmp.WaitMigrate(m => m["ram"]?["transferred"]?.GetValue<long>() > 0, TimeSpan.FromSeconds(60), "the first RAM bytes");
        destination.Kill();

        var (exit, stderr) = proxy.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(stderr);
        Assert.Equal(4, exit);
        Assert.Matches(@"the destination (closed|failed \(\w+\) on) the main channel in precopy round \d+ at offset 0x[0-9a-f]+ of main-forward\.mig", stderr);

        var status = "";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (status != "failed" && DateTime.UtcNow < deadline)
        {
            status = source.Qmp.Execute("query-migrate")!["status"]?.GetValue<string>() ?? "";
            Thread.Sleep(100);
        }

        Assert.True(status == "failed", $"the source's migration is {status}, not failed, after the proxy closed its connection");
    }

    private string Copy(string disk, string name)
    {
        var copy = Path.Combine(_work, name + ".img");
        File.Copy(disk, copy);
        return copy;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
