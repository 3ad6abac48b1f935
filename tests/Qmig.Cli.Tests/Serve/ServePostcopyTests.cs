using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Qmig.Cli.Tests.Receive;
using Qmig.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Serve;

/// <summary>
/// <c>qmig serve</c> into real QEMU 7.2 and 10.0 destinations: a QEMU of the same version runs the dirty
/// guest (tests/fixtures/dirty-guest.asm), is paused and saved with <c>migrate exec:cat &gt; FILE</c>;
/// a fresh QEMU with <c>-incoming defer</c> and postcopy-ram then receives that file from qmig.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class ServePostcopyTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-serve-").FullName;

    /// <summary>With -S on the destination, its RAM afterwards is the saved stream's, byte for byte.</summary>
    [Theory]
    [InlineData("7.2", false, "tcp", 0)]
    [InlineData("10.0", false, "tcp", 0)]
    [InlineData("7.2", true, "tcp", 0)]
    [InlineData("10.0", true, "tcp", 0)]
    [InlineData("7.2", false, "unix", 0)]
    [InlineData("10.0", false, "tcp", 1)]
    public void APausedDestinationEndsWithTheSavedRam(string version, bool preempt, string transport, int precopySeconds)
    {
        var qemu = QemuBuild.ByVersion(version);
        var (saved, _) = SaveDirtyGuest(qemu);
        using var destination = StartDestination(qemu, paused: true, preempt, transport, out var address);

        // 256 KiB/s with precopy: the second of precopy ends with pages still unsent.
        string[] precopy = precopySeconds > 0 ? ["--precopy-seconds", precopySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--max-bandwidth", "256K"] : [];
        var (exit, stderr, stats) = Serve(saved, address, [.. precopy, .. (string[])(preempt ? ["--postcopy-preempt"] : [])]);

        Assert.True(exit == 0, $"qmig serve exited with {exit}: {stderr}");
        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));
        Assert.Equal("paused", destination.Qmp.Execute("query-status")!["status"]!.GetValue<string>());
        Assert.Equal(0, stats["shut"]!.GetValue<int>());
        Assert.True(stats["discards"]!["commands"]!.GetValue<long>() >= 1, "no discard before LISTEN");
        Assert.True(precopySeconds == 0 ? stats["pages"]!["precopy"]!.GetValue<long>() == 0 : stats["pages"]!["precopy"]!.GetValue<long>() > 0, "precopy pages: " + stats.ToJsonString());

        Assert.Equal(0, stats["pages"]!["sent_in_place"]!.GetValue<long>());

        AssertDestinationHasTheSavedRam(saved, destination);
    }

    /// <summary>
    /// With <c>--send-from-mapping</c> every page with data goes to the socket straight from the snapshot's
    /// mapping (the stats count them), and the destination still ends with the saved RAM: alone, and with
    /// requested pages on a preempt connection.
    /// </summary>
    [Theory]
    [InlineData("7.2", false)]
    [InlineData("10.0", true)]
    public void PagesSentFromTheMappingEndWithTheSavedRam(string version, bool preempt)
    {
        var qemu = QemuBuild.ByVersion(version);
        var (saved, _) = SaveDirtyGuest(qemu);
        using var destination = StartDestination(qemu, paused: true, preempt, "tcp", out var address);

        var (exit, stderr, stats) = Serve(saved, address, ["--send-from-mapping", .. (string[])(preempt ? ["--postcopy-preempt"] : [])]);

        Assert.True(exit == 0, $"qmig serve exited with {exit}: {stderr}");
        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));
        Assert.Equal(0, stats["shut"]!.GetValue<int>());
        AssertPagesSentInPlace(stats, fromMapping: true);
        AssertDestinationHasTheSavedRam(saved, destination);
    }

    /// <summary>
    /// A snapshot served twice with <c>--index</c>: the first serve builds the page index and keeps it,
    /// the second loads it instead of reading the snapshot, and its destination too ends with the saved RAM.
    /// </summary>
    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void ASecondServeLoadsTheKeptIndexAndEndsWithTheSavedRam(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var (saved, _) = SaveDirtyGuest(qemu);
        var index = Path.Combine(_work, "saved.idx");
        foreach (var expected in (string[])["page index built and kept in saved.idx (not loaded from it: there is none yet)", "page index loaded from saved.idx"])
        {
            using var destination = StartDestination(qemu, paused: true, preempt: false, "tcp", out var address);
            var (exit, stderr, stats) = Serve(saved, address, ["--index", index]);

            Assert.True(exit == 0, $"qmig serve exited with {exit}: {stderr}");
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));
            Assert.Equal(0, stats["shut"]!.GetValue<int>());
            AssertDestinationHasTheSavedRam(saved, destination);
        }
    }

    /// <summary>
    /// A QEMU 10.0 <c>migrate file:</c> save with mapped-ram (alone, and with multifd) into a 10.0
    /// postcopy destination, which cannot have mapped-ram on: serve drops it from the configuration.
    /// With <c>--send-from-mapping</c> the pages go from the file's pages region itself.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void AMappedRamFileOfQemu10EndsWithTheSavedRam(bool multifd, bool fromMapping)
    {
        var qemu = QemuBuild.Backports100;
        var saved = Path.Combine(_work, "saved-mapped-ram.mig");
        using (var source = new QemuGuest(qemu, _work, "source", ReceivePostcopyTests.AssembleGuest(_work, "source")))
        {
            source.WaitGuestRunning();
            source.Qmp.Execute("stop");
            source.EnableCapabilities(multifd ? ["mapped-ram", "multifd"] : ["mapped-ram"]);
            source.Qmp.Execute("migrate", new { uri = $"file:{saved}" });
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(60), "saving the guest with mapped-ram");
        }

        using var destination = StartDestination(qemu, paused: true, preempt: false, "tcp", out var address);
        var (exit, stderr, stats) = Serve(saved, address, fromMapping ? ["--send-from-mapping"] : []);

        Assert.True(exit == 0, $"qmig serve exited with {exit}: {stderr}");
        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));
        Assert.Equal(0, stats["shut"]!.GetValue<int>());
        AssertPagesSentInPlace(stats, fromMapping);
        AssertDestinationHasTheSavedRam(saved, destination);
    }

    /// <summary>
    /// The whole round trip: a real QEMU migrates into <c>qmig receive</c> with postcopy, and the OUT.mig
    /// it wrote is served into a fresh QEMU, whose RAM then equals the original source's.
    /// </summary>
    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void ReceivesOutMigIsServedWithTheOriginalSourcesRam(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var outMig = Path.Combine(_work, "out.mig");
        byte[] sourceRam;
        using (var receiver = new ReceiverProcess(["-o", outMig]))
        {
            using (var source = new QemuGuest(qemu, _work, "source", ReceivePostcopyTests.AssembleGuest(_work, "source")))
            {
                source.WaitGuestRunning();
                source.StartPostcopyMigration($"tcp:127.0.0.1:{receiver.Port}", preempt: false, postcopyBandwidth: 0, precopyRounds: 1);
                source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "the migration into qmig receive");
                sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
            }

            var received = receiver.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.True(received == 0, $"qmig receive exited with {received?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing (still running)"}: {receiver.Stderr}");
        }

        using var destination = StartDestination(qemu, paused: true, preempt: false, "tcp", out var address);
        var (exit, stderr, stats) = Serve(outMig, address, []);

        Assert.True(exit == 0, $"qmig serve exited with {exit}: {stderr}");
        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));
        Assert.Equal(0, stats["shut"]!.GetValue<int>());
        // Both sides through pmemsave: nothing to skip.
        GuestMemory.AssertSame(sourceRam, destination.SaveMemory(Path.Combine(_work, "destination.ram")), "the destination's RAM after serving OUT.mig", GuestMemory.Nothing);
    }

    /// <summary>The destination's pc.ram equals the saved stream's final pc.ram as <c>qmig extract</c> writes it (the VGA window aside).</summary>
    private void AssertDestinationHasTheSavedRam(string saved, QemuGuest destination)
    {
        var extracted = Path.Combine(_work, "extract");
        var (extractExit, _, extractError) = QmigProcess.Run("extract", saved, "-o", extracted);
        Assert.True(extractExit == 0, $"extract: {extractExit} {extractError}");
        var savedRam = File.ReadAllBytes(Directory.GetFiles(extracted, "pc.ram*", SearchOption.AllDirectories).Single());
        GuestMemory.AssertSame(savedRam, destination.SaveMemory(Path.Combine(_work, "destination.ram")), "the destination's RAM after qmig serve", GuestMemory.VgaWindow);
    }

    /// <summary>
    /// Without -S the destination runs before the last page was sent; the guest's sweeps fault on pages
    /// not yet there, which qmig serves on request, and its counter moves past the saved value.
    /// </summary>
    [Theory]
    [InlineData("7.2", false)]
    [InlineData("10.0", false)]
    [InlineData("7.2", true)]
    [InlineData("10.0", true)]
    public async Task ARunningDestinationRunsAtOnceAndPullsPagesOnDemand(string version, bool preempt)
    {
        var qemu = QemuBuild.ByVersion(version);
        var (saved, savedCounter) = SaveDirtyGuest(qemu);
        using var destination = StartDestination(qemu, paused: false, preempt, "tcp", out var address);
        var statsPath = Path.Combine(_work, "serve-stats.json");
        // 256 KiB/s: the guest's few hundred non-zero pages take seconds in the background.
        using var serve = QmigProcess.Start(["serve", saved, "--to", address, "--max-bandwidth", "256K", "--stats", statsPath, .. (string[])(preempt ? ["--postcopy-preempt"] : [])]);
        var stderr = serve.StandardError.ReadToEndAsync();

        var watch = Stopwatch.StartNew();
        var runningBeforeTheEnd = false;
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (destination.Qmp.Execute("query-status")!["status"]!.GetValue<string>() == "running")
            {
                runningBeforeTheEnd = !serve.HasExited;
                break;
            }

            Thread.Sleep(20);
        }

        output.WriteLine($"the destination ran {watch.Elapsed.TotalSeconds:F2} s after qmig serve started");
        Assert.True(serve.WaitForExit(120_000), "qmig serve did not finish within 120 s");
        var messages = await stderr;
        output.WriteLine(messages);
        Assert.True(serve.ExitCode == 0, $"qmig serve exited with {serve.ExitCode}: {messages}");
        Assert.True(runningBeforeTheEnd, "the destination was not running before qmig serve ended");
        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));

        var stats = JsonNode.Parse(File.ReadAllText(statsPath))!;
        output.WriteLine(stats.ToJsonString());
        Assert.True(stats["requests"]!.GetValue<long>() > 0, "the destination asked for no page: " + stats.ToJsonString());
        Assert.True(stats["pages"]!["requested"]!.GetValue<long>() > 0, "no requested page was sent: " + stats.ToJsonString());
        if (preempt)
        {
            // More than the closing EOS: the requested pages went on the second connection.
            Assert.True(stats["bytes"]!["preempt"]!.GetValue<long>() > 4096, "no page on the preempt connection: " + stats.ToJsonString());
        }

        uint counter;
        var since = Stopwatch.StartNew();
        do
        {
            Thread.Sleep(100);
            counter = destination.ReadWord(0x10000);
        }
        while (counter <= savedCounter && since.Elapsed < TimeSpan.FromSeconds(30));

        output.WriteLine($"the guest's sweep counter: {savedCounter} when saved, {counter} {since.Elapsed.TotalSeconds:F1} s after completion");

        if (counter <= savedCounter)
        {
            // Say what the guest was doing and which pages it found different, so a failure shows whether
            // it was reset or ran from a page with other content than the saved one.
            destination.Qmp.Execute("stop");
            Assert.Fail($"the guest's sweep counter stayed at {counter} (saved at {savedCounter}); its registers:\n{destination.Qmp.Human("info registers")}\n{DifferencesFromTheSavedRam(saved, destination)}");
        }
    }

    /// <summary>The pages of the destination's pc.ram that differ from the saved stream's, outside the range the guest sweeps and the VGA window.</summary>
    private string DifferencesFromTheSavedRam(string saved, QemuGuest destination)
    {
        var extracted = Path.Combine(_work, "extract-diagnosis");
        QmigProcess.Run("extract", saved, "-o", extracted);
        var savedRam = File.ReadAllBytes(Directory.GetFiles(extracted, "pc.ram*", SearchOption.AllDirectories).Single());
        var ram = destination.SaveMemory(Path.Combine(_work, "destination-diagnosis.ram"));
        var differing = Enumerable.Range(0, Math.Min(savedRam.Length, ram.Length) / 4096)
            .Where(page => page is (< 0x10 or >= 0x90) and (< 0xa0 or >= 0xc0))
            .Where(page => !savedRam.AsSpan(page * 4096, 4096).SequenceEqual(ram.AsSpan(page * 4096, 4096)))
            .ToList();
        return $"{differing.Count} pages differ from the saved RAM outside the swept pages and the VGA window: {string.Join(", ", differing.Take(32).Select(page => $"0x{page * 4096:x}"))}";
    }

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public async Task ADestinationKilledMidPostcopyFailsWithExit4WithinSeconds(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var (saved, _) = SaveDirtyGuest(qemu);
        // Paused (-S): the guest asks for no page, so the background stream at 16 KiB/s keeps postcopy
        // going for about a minute. A running guest pulled its few hundred pages on request at once,
        // and on a loaded machine the migration completed before postcopy-active was seen.
        var destination = StartDestination(qemu, paused: true, preempt: false, "tcp", out var address);
        using var serve = QmigProcess.Start(["serve", saved, "--to", address, "--max-bandwidth", "16K"]);
        var stderr = serve.StandardError.ReadToEndAsync();
        destination.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-active", TimeSpan.FromSeconds(60), "postcopy");
        // What WaitIncomingCompleted waits on must be visible, or it would not wait at all.
        Assert.True(destination.HasPostcopyListenThread(), $"no thread of the postcopy-active {version} destination is named as its postcopy listen thread");
        destination.Dispose();
        var killed = Stopwatch.StartNew();

        Assert.True(serve.WaitForExit(15_000), $"qmig serve still runs {killed.Elapsed.TotalSeconds:F1} s after the destination was killed");
        var messages = await stderr;
        output.WriteLine(messages);
        Assert.Equal(4, serve.ExitCode);
        Assert.Contains("postcopy-active", messages, StringComparison.Ordinal);
        Assert.Contains("destination's own log", messages, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7.2")]
    [InlineData("10.0")]
    public void ADestinationWithoutPostcopyRamGetsAMessageToSetIt(string version)
    {
        var qemu = QemuBuild.ByVersion(version);
        var (saved, _) = SaveDirtyGuest(qemu);
        using var destination = new QemuGuest(qemu, _work, "destination", ReceivePostcopyTests.AssembleGuest(_work, "destination"), "-incoming", "defer", "-S");
        var address = $"tcp:127.0.0.1:{Loopback.FreePort()}";
        destination.Qmp.Execute("migrate-incoming", new { uri = address });

        var (exit, stderr, _) = Serve(saved, address, []);

        Assert.Equal(4, exit);
        Assert.Contains("postcopy-ram is off on the destination", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ADestinationWithOtherRamGetsAMessageNamingTheBlockList()
    {
        var qemu = QemuBuild.Debian72;
        var (saved, _) = SaveDirtyGuest(qemu);
        // -m 64 after QemuGuest's -m 32: pc.ram is twice the saved guest's.
        using var destination = new QemuGuest(qemu, _work, "destination", ReceivePostcopyTests.AssembleGuest(_work, "destination"), "-m", "64", "-incoming", "defer", "-S");
        destination.EnableCapabilities("postcopy-ram");
        var address = $"tcp:127.0.0.1:{Loopback.FreePort()}";
        destination.Qmp.Execute("migrate-incoming", new { uri = address });

        var (exit, stderr, _) = Serve(saved, address, []);

        Assert.Equal(4, exit);
        Assert.Contains("RAM blocks differ", stderr, StringComparison.Ordinal);
        // What the destination must match, said again after the failure.
        Assert.True(stderr.Split("pc.ram: 32 MiB").Length >= 3, "the RAM blocks were not listed again: " + stderr);
    }

    /// <summary>
    /// A serve straight to postcopy sent pages with data, and all of them (with --send-from-mapping) or
    /// none (without) went to the socket from the snapshot's mapping, as its --stats count them.
    /// </summary>
    private static void AssertPagesSentInPlace(JsonNode stats, bool fromMapping)
    {
        var pages = stats["pages"]!;
        var withData = pages["background"]!.GetValue<long>() + pages["requested"]!.GetValue<long>() - pages["zero"]!.GetValue<long>();
        Assert.True(withData > 0, stats.ToJsonString());
        Assert.Equal(fromMapping ? withData : 0, pages["sent_in_place"]!.GetValue<long>());
    }

    /// <summary>The dirty guest, run until it sweeps, paused and saved to a file; its sweep counter when paused.</summary>
    private (string Path, uint Counter) SaveDirtyGuest(QemuBuild qemu)
    {
        var path = Path.Combine(_work, "saved.mig");
        return (path, SavedDirtyGuest.Save(qemu, _work, path));
    }

    private QemuGuest StartDestination(QemuBuild qemu, bool paused, bool preempt, string transport, out string address)
    {
        var destination = new QemuGuest(qemu, _work, "destination", ReceivePostcopyTests.AssembleGuest(_work, "destination"),
            paused ? ["-incoming", "defer", "-S"] : ["-incoming", "defer"]);
        destination.EnableCapabilities(preempt ? ["postcopy-ram", "postcopy-preempt"] : ["postcopy-ram"]);
        address = transport == "unix" ? $"unix:{Path.Combine(_work, "incoming.sock")}" : $"tcp:127.0.0.1:{Loopback.FreePort()}";
        destination.Qmp.Execute("migrate-incoming", new { uri = address });
        return destination;
    }

    private (int Exit, string Stderr, JsonNode Stats) Serve(string saved, string address, string[] extra)
    {
        var statsPath = Path.Combine(_work, "serve-stats.json");
        var (exit, _, stderr) = QmigProcess.Run(["serve", saved, "--to", address, "--stats", statsPath, .. extra]);
        output.WriteLine(stderr);
        var stats = JsonNode.Parse(File.ReadAllText(statsPath))!;
        output.WriteLine(stats.ToJsonString());
        return (exit, stderr, stats);
    }


    public void Dispose() => Directory.Delete(_work, recursive: true);
}
