using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Qmig.Cli.Tests.Receive;
using Qmig.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Tls;

/// <summary>
/// <c>receive</c> and <c>serve</c> with <c>--tls-creds</c> against real QEMU 7.2 and 10.0 whose
/// <c>tls-creds-x509</c> object reads a directory of certificates made here. Every channel is TLS:
/// QEMU with <c>tls-creds</c> set speaks nothing else, and qmig refuses plaintext.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class TlsMigrationTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-tls-").FullName;
    private readonly TestCertificateAuthority _ca = new("qmig test CA");
    private readonly TestCertificateAuthority _otherCa = new("another CA");

    [Theory]
    [InlineData("7.2", false)]
    [InlineData("7.2", true)]
    [InlineData("10.0", false)]
    [InlineData("10.0", true)]
    public void ATlsPostcopyFromQemuIntoReceiveEndsWithTheSourcesRam(string version, bool preempt)
    {
        var qemu = QemuBuild.ByVersion(version);
        var credentials = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost", "127.0.0.1"]);
        var outMig = Path.Combine(_work, "out.mig");
        var statsPath = Path.Combine(_work, "stats.json");
        // Random touches land ahead of the background stream, so pages are asked for (on the preempt channel when there is one).
        using var receiver = new ReceiverProcess(["-o", outMig, "--stats", statsPath, "--touch", "random", "--tls-creds", credentials, .. (string[])(preempt ? ["--postcopy-preempt"] : [])]);
        byte[] sourceRam;
        using (var source = TlsSource(qemu, credentials))
        {
            source.WaitGuestRunning();
            source.StartPostcopyMigration($"tcp:127.0.0.1:{receiver.Port}", preempt, postcopyBandwidth: 256 << 10, precopyRounds: 0);
            try
            {
                var final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "completion");
                output.WriteLine("source query-migrate: " + final.ToJsonString());
            }
            catch (InvalidOperationException)
            {
                output.WriteLine("qmig receive: " + receiver.Stderr);
                output.WriteLine("the source QEMU: " + source.KillAndReadErrors());
                throw;
            }

            sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
        }

        var exit = receiver.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(receiver.Stderr);
        Assert.True(exit == 0, $"qmig receive exited with {exit?.ToString() ?? "nothing (still running)"}: {receiver.Stderr}");
        Assert.Contains("(TLS)", receiver.Stderr, StringComparison.Ordinal);
        var stats = JsonNode.Parse(File.ReadAllText(statsPath))!;
        output.WriteLine(stats.ToJsonString());
        Assert.True(stats["faults"]!.GetValue<long>() > 0, "the guest threads never faulted: postcopy was not exercised");
        var preemptPages = stats["pages"]!["preempt_channel"]!.GetValue<long>();
        Assert.True(preempt ? preemptPages > 0 : preemptPages == 0, $"{preemptPages} pages came on the preempt channel (postcopy-preempt {preempt})");

        var extracted = Path.Combine(_work, "extract");
        var (extractExit, _, extractError) = QmigProcess.Run("extract", outMig, "-o", extracted);
        // OUT.mig has no vmdesc (a postcopy source sends none): exit 2 after writing the RAM images.
        Assert.True(extractExit == 2, $"extract: {extractExit} {extractError}");
        var ourRam = File.ReadAllBytes(Directory.GetFiles(extracted, "pc.ram*", SearchOption.AllDirectories).Single());
        GuestMemory.AssertSame(sourceRam, ourRam, "qmig extract of OUT.mig received over TLS (pc.ram)", GuestMemory.VgaWindow);
    }

    /// <summary>After <c>migrate-pause</c> the source resumes with new TLS sessions: the main channel, then a new preempt channel.</summary>
    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void ATlsPostcopyPausedAndResumedCompletesWithTheSourcesRam(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var credentials = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost", "127.0.0.1"]);
        var outMig = Path.Combine(_work, "out.mig");
        var statsPath = Path.Combine(_work, "stats.json");
        using var receiver = new ReceiverProcess(["-o", outMig, "--recover", "--postcopy-preempt", "--stats", statsPath, "--touch", "none", "--tls-creds", credentials]);
        byte[] sourceRam;
        using (var source = TlsSource(qemu, credentials))
        {
            source.WaitGuestRunning();
            // 64 KiB/s: postcopy is far from done when the link is cut.
            source.StartPostcopyMigration($"tcp:127.0.0.1:{receiver.Port}", preempt: true, postcopyBandwidth: 64 << 10, precopyRounds: 0);
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-active", TimeSpan.FromSeconds(60), "postcopy");
            Thread.Sleep(200);
            source.Qmp.Execute("migrate-pause");
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-paused", TimeSpan.FromSeconds(30), "postcopy-paused");
            source.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["max-postcopy-bandwidth"] = 1 << 20 });
            source.Qmp.Execute("migrate", new { uri = $"tcp:127.0.0.1:{receiver.Port}", resume = true });
            try
            {
                source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "completion after the resume");
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                throw new InvalidOperationException($"{e.Message}; qmig receive said: {receiver.Stderr}", e);
            }

            sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
        }

        var exit = receiver.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(receiver.Stderr);
        Assert.True(exit == 0, $"qmig receive exited with {exit?.ToString() ?? "nothing (still running)"}: {receiver.Stderr}");
        var stats = JsonNode.Parse(File.ReadAllText(statsPath))!;
        Assert.Equal(1, stats["recovery"]!["pauses"]!.GetValue<int>());
        Assert.Contains("postcopy-recover", receiver.Stderr, StringComparison.Ordinal);
        var extracted = Path.Combine(_work, "extract");
        QmigProcess.Run("extract", outMig, "-o", extracted);
        var ourRam = File.ReadAllBytes(Directory.GetFiles(extracted, "pc.ram*", SearchOption.AllDirectories).Single());
        GuestMemory.AssertSame(sourceRam, ourRam, "qmig extract of OUT.mig after a TLS recovery (pc.ram)", GuestMemory.VgaWindow);
    }

    [Theory]
    [InlineData("7.2", false)]
    [InlineData("7.2", true)]
    [InlineData("10.0", false)]
    [InlineData("10.0", true)]
    public void ATlsServeIntoQemuEndsWithTheSavedRam(string version, bool preempt)
    {
        var qemu = QemuBuild.ByVersion(version);
        var credentials = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost", "127.0.0.1"]);
        var saved = SaveDirtyGuest(qemu);
        using var destination = TlsDestination(qemu, credentials, preempt, out var address);

        // No --tls-hostname: the host of --to (127.0.0.1) must be in the destination's certificate, as QEMU's source checks it.
        var (exit, stderr) = Serve(saved, address, ["--tls-creds", credentials, .. (string[])(preempt ? ["--postcopy-preempt"] : [])]);

        Assert.True(exit == 0, $"qmig serve exited with {exit}: {stderr}");
        Assert.Contains("TLS, the destination's certificate is valid for 127.0.0.1", stderr, StringComparison.Ordinal);
        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));
        var extracted = Path.Combine(_work, "extract");
        var (extractExit, _, extractError) = QmigProcess.Run("extract", saved, "-o", extracted);
        Assert.True(extractExit == 0, $"extract: {extractExit} {extractError}");
        var savedRam = File.ReadAllBytes(Directory.GetFiles(extracted, "pc.ram*", SearchOption.AllDirectories).Single());
        GuestMemory.AssertSame(savedRam, destination.SaveMemory(Path.Combine(_work, "destination.ram")), "the destination's RAM after qmig serve over TLS", GuestMemory.VgaWindow);
    }

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void APlaintextSourceIsRefusedByATlsReceiveBeforeAnyGuestMemoryIsTouched(string version)
    {
        var credentials = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost"]);
        var (exit, stderr, stats) = ReceiveFrom(QemuBuild.ByVersion(version), sourceCredentials: null, ["--tls-creds", credentials]);

        Assert.Equal(4, exit);
        Assert.Contains("sent plaintext where a TLS handshake was expected: its first bytes are 5145564d (the magic of a QEMU migration stream: the source has no tls-creds set)", stderr, StringComparison.Ordinal);
        Assert.Contains("no guest memory was touched", stderr, StringComparison.Ordinal);
        Assert.Equal(0, stats["bytes"]!["received"]!.GetValue<long>());
        Assert.Equal(0, stats["pages"]!["precopy"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void ASourceCertificateFromAnotherAuthorityIsRefusedByReceive(string version)
    {
        var ours = _ca.WriteCredentials(Path.Combine(_work, "ours"), ["localhost"]);
        // The source trusts our authority too, so it accepts our certificate and only our check can refuse.
        var theirs = _otherCa.WriteCredentials(Path.Combine(_work, "theirs"), ["localhost"], _ca);
        var (exit, stderr, stats) = ReceiveFrom(QemuBuild.ByVersion(version), theirs, ["--tls-creds", ours]);

        Assert.Equal(4, exit);
        Assert.Contains("the source's client certificate 'CN=qmig-test-client' does not chain to the certificate authority in", stderr, StringComparison.Ordinal);
        Assert.Equal(0, stats["bytes"]!["received"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void ADestinationCertificateFromAnotherAuthorityIsRefusedByServe(string version)
    {
        var ours = _ca.WriteCredentials(Path.Combine(_work, "ours"), ["localhost", "127.0.0.1"]);
        var theirs = _otherCa.WriteCredentials(Path.Combine(_work, "theirs"), ["localhost", "127.0.0.1"], _ca);
        using var destination = TlsDestination(QemuBuild.ByVersion(version), theirs, preempt: false, out var address);

        var (exit, stderr) = Serve(BundledStream, address, ["--tls-creds", ours]);

        Assert.Equal(4, exit);
        Assert.Contains("the destination's server certificate 'CN=localhost' does not chain to the certificate authority in", stderr, StringComparison.Ordinal);
        Assert.Contains("nothing of the guest was sent", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void ADestinationCertificateForAnotherHostIsRefusedByServe(string version)
    {
        var credentials = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost", "127.0.0.1"]);
        using var destination = TlsDestination(QemuBuild.ByVersion(version), credentials, preempt: false, out var address);

        var (exit, stderr) = Serve(BundledStream, address, ["--tls-creds", credentials, "--tls-hostname", "destination.example"]);

        Assert.Equal(4, exit);
        Assert.Contains("certificate 'CN=localhost' is not for host 'destination.example' (its names: localhost, 127.0.0.1)", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void APlaintextDestinationFailsTheHandshakeWithAMessageThatSaysSo(string version)
    {
        var credentials = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost", "127.0.0.1"]);
        using var destination = new QemuGuest(QemuBuild.ByVersion(version), _work, "destination", ReceivePostcopyTests.AssembleGuest(_work, "destination"), "-incoming", "defer", "-S");
        destination.EnableCapabilities("postcopy-ram");
        var address = $"tcp:127.0.0.1:{Loopback.FreePort()}";
        destination.Qmp.Execute("migrate-incoming", new { uri = address });

        var (exit, stderr) = Serve(BundledStream, address, ["--tls-creds", credentials]);

        Assert.Equal(4, exit);
        Assert.Contains("the destination closed the connection during the handshake: is TLS (tls-creds) set on the destination", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ACredentialsDirectoryWithoutTheServerKeyIsAUsageErrorNamingTheFile()
    {
        var credentials = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost"]);
        File.Delete(Path.Combine(credentials, "server-key.pem"));

        var (exit, _, stderr) = QmigProcess.Run("receive", "--listen", "tcp:127.0.0.1:0", "-o", Path.Combine(_work, "out.mig"), "--tls-creds", credentials);

        Assert.Equal(2, exit);
        Assert.Contains($"qmig: --tls-creds: {Path.Combine(credentials, "server-key.pem")} is missing", stderr, StringComparison.Ordinal);
    }

    private static string BundledStream => Path.Combine(AppContext.BaseDirectory, "data", "pc-64m-running", "pc-64m-running.mig");

    /// <summary>A QEMU running the dirty guest with client credentials for migrating with TLS.</summary>
    private QemuGuest TlsSource(QemuBuild qemu, string credentials)
    {
        var source = new QemuGuest(qemu, _work, "source", ReceivePostcopyTests.AssembleGuest(_work, "source"),
            "-object", $"tls-creds-x509,id=tls0,dir={credentials},endpoint=client");
        source.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["tls-creds"] = "tls0", ["tls-hostname"] = "localhost" });
        return source;
    }

    /// <summary>A QEMU waiting with -incoming for a TLS migration, peer verification on (QEMU's default).</summary>
    private QemuGuest TlsDestination(QemuBuild qemu, string credentials, bool preempt, out string address)
    {
        var destination = new QemuGuest(qemu, _work, "destination", ReceivePostcopyTests.AssembleGuest(_work, "destination"),
            "-object", $"tls-creds-x509,id=tls0,dir={credentials},endpoint=server", "-incoming", "defer", "-S");
        destination.EnableCapabilities(preempt ? ["postcopy-ram", "postcopy-preempt"] : ["postcopy-ram"]);
        destination.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["tls-creds"] = "tls0" });
        address = $"tcp:127.0.0.1:{Loopback.FreePort()}";
        destination.Qmp.Execute("migrate-incoming", new { uri = address });
        return destination;
    }

    /// <summary>A source (with TLS when <paramref name="sourceCredentials"/> is given) migrating into a receive that must refuse it.</summary>
    private (int Exit, string Stderr, JsonNode Stats) ReceiveFrom(QemuBuild qemu, string? sourceCredentials, string[] receiveOptions)
    {
        var statsPath = Path.Combine(_work, "stats.json");
        var outMig = Path.Combine(_work, "out.mig");
        using var receiver = new ReceiverProcess(["-o", outMig, "--stats", statsPath, .. receiveOptions]);
        using var source = sourceCredentials is null
            ? new QemuGuest(qemu, _work, "source", ReceivePostcopyTests.AssembleGuest(_work, "source"))
            : TlsSource(qemu, sourceCredentials);
        source.EnableCapabilities("postcopy-ram");
        source.Qmp.Execute("migrate", new { uri = $"tcp:127.0.0.1:{receiver.Port}" });
        var exit = receiver.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(receiver.Stderr);
        Assert.False(File.Exists(outMig), "an OUT.mig was written for a refused source");
        var final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "failed", TimeSpan.FromSeconds(60), "the source's failure");
        output.WriteLine("source query-migrate: " + final.ToJsonString());
        return (exit ?? -1, receiver.Stderr, JsonNode.Parse(File.ReadAllText(statsPath))!);
    }

    private string SaveDirtyGuest(QemuBuild qemu)
    {
        var path = Path.Combine(_work, "saved.mig");
        SavedDirtyGuest.Save(qemu, _work, path);
        return path;
    }

    private (int Exit, string Stderr) Serve(string saved, string address, string[] extra)
    {
        var (exit, _, stderr) = QmigProcess.Run(["serve", saved, "--to", address, .. extra]);
        output.WriteLine(stderr);
        return (exit, stderr);
    }


    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}
