using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Receive;

/// <summary>
/// <c>qmig receive</c> as the destination of a real QEMU 7.2 postcopy migration: the source runs
/// the dirty guest (tests/fixtures/dirty-guest.asm, assembled with nasm), migrates to us with
/// postcopy-ram and switches to postcopy after the first full RAM round. test.sh installs
/// qemu-system-x86 and nasm; without them these tests fail and say so.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class ReceivePostcopyTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-receive-").FullName;

    [Theory]
    [InlineData("7.2", 0, false, false)]
    [InlineData("10.0", 0, false, false)]
    [InlineData("7.2", 32, false, false)]
    [InlineData("7.2", 0, true, false)]
    [InlineData("10.0", 0, true, false)]
    [InlineData("7.2", 0, false, true)]
    [InlineData("10.0", 0, true, true)]
    public void ARealQemuMigratesIntoUsWithPostcopyAndTheGuestRunsOnFromOurStream(string version, int requestAhead, bool preempt, bool hugePages)
    {
        var qemu = QemuBuild.ByVersion(version);
        // Guest RAM on 2 MiB huge pages (a memfd from the hugetlb pool), as a production VM on
        // hugetlbfs: the source, qmig and the QEMU that loads OUT.mig each need 16 of them.
        string[] memory = hugePages ? ["-object", "memory-backend-memfd,id=pc.ram,size=32M,hugetlb=on,hugetlbsize=2M", "-machine", "memory-backend=pc.ram"] : [];
        if (hugePages)
        {
            Qmig.Linux.Tests.HugePagePool.Ensure(48);
        }

        var outMig = Path.Combine(_work, "out.mig");
        var statsPath = Path.Combine(_work, "stats.json");
        var returnPath = Path.Combine(_work, "return-path.bin");
        string[] preemptOption = preempt ? ["--postcopy-preempt"] : [];
        // A page comes on the preempt channel only if a vCPU asks for it before the background
        // stream has sent it. A sequential sweep follows the background stream through the dirty
        // guest's pages and, on a loaded machine, falls behind it; random touches also land far
        // ahead of it.
        var touch = preempt ? "random" : "sequential";
        using var receiver = new ReceiverProcess(["-o", outMig, "--stats", statsPath, "--return-path-log", returnPath, "--touch", touch,
            "--request-ahead", requestAhead.ToString(CultureInfo.InvariantCulture), .. preemptOption]);
        uint counterAtSource;
        byte[] sourceRam;
        using (var source = new QemuGuest(qemu, _work, "source", GuestDisk("source"), memory))
        {
            source.WaitGuestRunning();
            // Postcopy at 256 KiB/s takes about two seconds for the dirty guest's pages: faster, the
            // background sender can deliver all of them before a stand-in vCPU reaches one, and then
            // nothing is requested. At 1 MiB/s that happened whenever the machine was loaded.
            // Straight to postcopy, so that most of RAM is still unsent when the stand-in vCPUs
            // fault. After precopy only the dirty guest's 128 pages are left (one huge page with huge
            // pages), and on a loaded machine a starved stand-in vCPU reached none of them before the
            // background stream placed them all: "never faulted", with QEMU 7.2 and 10.0 alike.
            // Precopy followed by postcopy into receive (its discards included) is the first half of
            // ReceivesOutMigIsServedWithTheOriginalSourcesRam, which checks the RAM, not the faults.
            const int precopyRounds = 0;
            source.StartPostcopyMigration($"tcp:127.0.0.1:{receiver.Port}", preempt, postcopyBandwidth: 256 << 10, precopyRounds);
            var final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "completion");
            output.WriteLine("source query-migrate: " + final.ToJsonString());
            sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
            counterAtSource = BitConverter.ToUInt32(sourceRam, 0x10000);
        }

        var exit = receiver.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(receiver.Stderr);
        Assert.True(exit == 0, $"qmig receive exited with {exit?.ToString() ?? "nothing (still running)"}: {receiver.Stderr}");
        Assert.True(File.Exists(outMig), "no OUT.mig was written");
        var stats = JsonNode.Parse(File.ReadAllText(statsPath))!;
        output.WriteLine(stats.ToJsonString());
        Assert.True(stats["faults"]!.GetValue<long>() > 0, "the guest threads never faulted: postcopy was not exercised");
        Assert.True(stats["vcpu_stall_us"]!["count"]!.GetValue<long>() > 0, "the stand-in vCPUs faulted but timed no stall: " + stats.ToJsonString());
        // The shape qmig report reads, as in the bundled stats file its tests open.
        var bundled = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "pc-32m-postcopy-receive-stats", "receive-stats.json")))!;
        Assert.Equal(KeyPaths(bundled), KeyPaths(stats));
        var preemptPages = stats["pages"]!["preempt_channel"]!.GetValue<long>();
        Assert.True(preempt ? preemptPages > 0 : preemptPages == 0, $"{preemptPages} pages came on the preempt channel (postcopy-preempt {preempt})");

        // The return path we sent, read back with our own reader.
        var (rpExit, rpJson, rpError) = QmigProcess.Run("stats", "--return-path", "--format", "json", returnPath);
        Assert.True(rpExit == 0, rpError);
        var messages = JsonNode.Parse(rpJson)!["messages"]!;
        Assert.True(messages["PONG"]?.GetValue<long>() >= 1, "no PONG on the return path: " + rpJson);
        Assert.True((messages["REQ_PAGES"]?.GetValue<long>() ?? 0) + (messages["REQ_PAGES_ID"]?.GetValue<long>() ?? 0) >= 1, "no page request on the return path: " + rpJson);
        var (_, rpDump, _) = QmigProcess.Run("dump", "--return-path", returnPath);
        Assert.EndsWith("SHUT len=4 status=0", rpDump.TrimEnd());
        var requestLengths = rpDump.Split('\n').Where(line => line.Contains(" REQ_PAGES", StringComparison.Ordinal))
            .Select(line => Convert.ToUInt64(line[(line.LastIndexOf("length=0x", StringComparison.Ordinal) + 9)..].Trim(), 16)).ToArray();
        if (requestAhead == 0)
        {
            // One host page per request: a huge page in pc.ram when it is on huge pages, a 4 KiB
            // page in the other blocks (random touches reach them too).
            ulong[] hostPages = hugePages ? [2UL << 20, 4096UL] : [4096UL];
            Assert.All(requestLengths, length => Assert.Contains(length, hostPages));
            Assert.True(!hugePages || requestLengths.Contains(2UL << 20), "no huge page was requested: " + string.Join(", ", requestLengths));
            Assert.Equal(0, stats["pages_requested_ahead"]!.GetValue<long>());
        }
        else
        {
            // The dirty guest's 128 pages are contiguous: a fault in them asks for the pages after it too.
            Assert.Contains(requestLengths, length => length > 4096);
            Assert.True(stats["pages_requested_ahead"]!.GetValue<long>() > 0, "no page was requested ahead: " + stats.ToJsonString());
            Assert.True(stats["pages_requested_ahead"]!.GetValue<long>() <= (long)requestAhead * requestLengths.Length, "more pages ahead than asked for: " + stats.ToJsonString());
        }

        // Our own extract of OUT.mig against the source's memory: pc.ram is guest-physical memory
        // from 0, except under the legacy VGA window that pmemsave reads through to the (absent) VGA.
        var extracted = Path.Combine(_work, "extract");
        var (extractExit, _, extractError) = QmigProcess.Run("extract", outMig, "-o", extracted);
        // OUT.mig has no vmdesc (a postcopy source sends none), so extract writes the RAM images
        // and says with exit code 2 that it could not decode device state.
        Assert.True(extractExit == 2 && extractError.Contains("vmdesc", StringComparison.Ordinal), $"extract: {extractExit} {extractError}");
        var ourRam = File.ReadAllBytes(Directory.GetFiles(extracted, "pc.ram*", SearchOption.AllDirectories).Single());
        GuestMemory.AssertSame(sourceRam, ourRam, "qmig extract of OUT.mig (pc.ram)", GuestMemory.VgaWindow);

        // OUT.mig into a fresh QEMU: the same memory, and the guest carries on.
        using var loaded = new QemuGuest(qemu, _work, "loaded", GuestDisk("loaded"), [.. memory, "-incoming", "defer", "-S"]);
        loaded.Qmp.Execute("migrate-incoming", new { uri = $"exec:cat {outMig}" });
        loaded.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(60), "loading OUT.mig");
        GuestMemory.AssertSame(sourceRam, loaded.SaveMemory(Path.Combine(_work, "loaded.ram")), "the QEMU that loaded OUT.mig", GuestMemory.Nothing);
        loaded.Qmp.Execute("cont");
        Assert.Equal("running", loaded.Qmp.Execute("query-status")!["status"]!.GetValue<string>());
        var stopwatch = Stopwatch.StartNew();
        uint counter;
        do
        {
            Thread.Sleep(100);
            counter = loaded.ReadWord(0x10000);
        }
        while (counter <= counterAtSource && stopwatch.Elapsed < TimeSpan.FromSeconds(30));

        Assert.True(counter > counterAtSource, $"the loaded guest's sweep counter stayed at {counter} (source stopped at {counterAtSource})");
        output.WriteLine($"guest sweep counter: source stopped at {counterAtSource}, the loaded guest is at {counter}");
    }

    /// <summary>
    /// Postcopy recovery: the source pauses the migration mid-postcopy (migrate-pause shuts its
    /// socket, as a broken link would), qmig receive --recover waits, the source resumes with
    /// migrate resume=true, the RECV_BITMAP / RESUME handshake runs, and the migration completes
    /// with the source's RAM.
    /// </summary>
    /// <remarks>
    /// QEMU 10.0 serves page requests past its rate limit at once, so stand-in vCPUs that fault
    /// would finish its postcopy before the pause could land; with 10.0 they stay idle and the
    /// background sender alone, at 64 KiB/s, keeps postcopy going. With 7.2 they fault, and the
    /// pages they wait for when the link breaks are asked for again after the resume.
    /// </remarks>
    [Theory]
    [InlineData("7.2", "sequential", false)]
    [InlineData("10.0", "none", false)]
    [InlineData("7.2", "sequential", true)]
    [InlineData("10.0", "none", true)]
    public void APostcopyBrokenOffAndResumedCompletesWithTheSourcesRam(string version, string touch, bool preempt)
    {
        var qemu = QemuBuild.ByVersion(version);
        var outMig = Path.Combine(_work, "out.mig");
        var statsPath = Path.Combine(_work, "stats.json");
        var returnPath = Path.Combine(_work, "return-path.bin");
        string[] preemptOption = preempt ? ["--postcopy-preempt"] : [];
        using var receiver = new ReceiverProcess(["-o", outMig, "--recover", "--stats", statsPath, "--return-path-log", returnPath, "--touch", touch, .. preemptOption]);
        byte[] sourceRam;
        using (var source = new QemuGuest(qemu, _work, "source", GuestDisk("source")))
        {
            source.WaitGuestRunning();
            // 64 KiB/s: postcopy is still far from done when the link is cut. Straight to postcopy:
            // after precopy rounds a guest that dirtied nothing (a loaded machine) lets the
            // migration complete before postcopy starts.
            source.StartPostcopyMigration($"tcp:127.0.0.1:{receiver.Port}", preempt, postcopyBandwidth: 64 << 10, precopyRounds: 0);
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-active", TimeSpan.FromSeconds(60), "postcopy");
            Thread.Sleep(200);
            source.Qmp.Execute("migrate-pause");
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-paused", TimeSpan.FromSeconds(30), "postcopy-paused");
            source.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["max-postcopy-bandwidth"] = 1 << 20 });
            source.Qmp.Execute("migrate", new { uri = $"tcp:127.0.0.1:{receiver.Port}", resume = true });
            JsonNode final;
            try
            {
                final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "completion after the resume");
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                // What the destination saw is what explains a resume that never completes.
                throw new InvalidOperationException($"{e.Message}; qmig receive said: {receiver.Stderr}", e);
            }
            output.WriteLine("source query-migrate: " + final.ToJsonString());
            sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
        }

        var exit = receiver.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(receiver.Stderr);
        Assert.True(exit == 0, $"qmig receive exited with {exit?.ToString() ?? "nothing (still running)"}: {receiver.Stderr}");
        var stats = JsonNode.Parse(File.ReadAllText(statsPath))!;
        output.WriteLine(stats.ToJsonString());
        Assert.Equal(1, stats["recovery"]!["pauses"]!.GetValue<int>());
        Assert.Contains("postcopy-recover", receiver.Stderr, StringComparison.Ordinal);

        // Both connections' return path, read with our own reader: the bitmaps and the ack are well formed.
        var (checkExit, _, checkError) = QmigProcess.Run("check", "--return-path", returnPath);
        Assert.True(checkExit == 0, checkError);
        var (_, rpJson, _) = QmigProcess.Run("stats", "--return-path", "--format", "json", returnPath);
        var messages = JsonNode.Parse(rpJson)!["messages"]!;
        Assert.True(messages["RECV_BITMAP"]?.GetValue<long>() >= 1, "no RECV_BITMAP answered: " + rpJson);
        Assert.Equal(1, messages["RESUME_ACK"]?.GetValue<long>());

        var extracted = Path.Combine(_work, "extract");
        QmigProcess.Run("extract", outMig, "-o", extracted);
        var ourRam = File.ReadAllBytes(Directory.GetFiles(extracted, "pc.ram*", SearchOption.AllDirectories).Single());
        GuestMemory.AssertSame(sourceRam, ourRam, "qmig extract of OUT.mig after the recovery (pc.ram)", GuestMemory.VgaWindow);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KillingTheSourceDuringPostcopyFailsFastAndLeavesNoStream(bool preempt)
    {
        var qemu = QemuBuild.Debian72;
        var outMig = Path.Combine(_work, "out.mig");
        string[] preemptOption = preempt ? ["--postcopy-preempt"] : [];
        using var receiver = new ReceiverProcess(["-o", outMig, "--touch", "random", .. preemptOption]);
        using (var source = new QemuGuest(qemu, _work, "source", GuestDisk("source")))
        {
            source.WaitGuestRunning();
            // Postcopy crawls at 8 KiB/s, so it is still going when the source dies.
            // Straight to postcopy: a precopy that converges (a guest starved of CPU dirties nothing) never gets there.
            source.StartPostcopyMigration($"tcp:127.0.0.1:{receiver.Port}", preempt, postcopyBandwidth: 8192, precopyRounds: 0);
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-active", TimeSpan.FromSeconds(60), "postcopy");
            Thread.Sleep(500);
            source.Kill();
        }

        var killed = Stopwatch.StartNew();
        var exit = receiver.WaitForExit(TimeSpan.FromSeconds(10));
        output.WriteLine(receiver.Stderr);
        Assert.True(exit is not null, $"qmig receive still runs {killed.Elapsed.TotalSeconds:F1} s after the source was killed");
        Assert.NotEqual(0, exit);
        Assert.Contains("the guest is lost", receiver.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(outMig), "an OUT.mig was left behind by a failed migration");
        Assert.False(File.Exists(outMig + ".partial"), "a partial OUT.mig was left behind");
    }

    private string GuestDisk(string name) => AssembleGuest(_work, name);

    /// <summary>The dirty guest assembled with nasm into a raw disk image in <paramref name="work"/>.</summary>
    internal static string AssembleGuest(string work, string name)
    {
        var disk = Path.Combine(work, name + ".img");
        var source = Path.Combine(AppContext.BaseDirectory, "fixtures", "dirty-guest.asm");
        using var nasm = Process.Start(new ProcessStartInfo("nasm", ["-f", "bin", "-o", disk, source]) { RedirectStandardError = true })
            ?? throw new InvalidOperationException("could not start nasm (test.sh installs it)");
        nasm.WaitForExit();
        Assert.True(nasm.ExitCode == 0, "nasm failed: " + nasm.StandardError.ReadToEnd());
        return disk;
    }

    /// <summary>Every object key by its path, in order; array elements share one path, and the state names under seconds_in_state vary by run.</summary>
    private static List<string> KeyPaths(JsonNode node, string path = "")
    {
        var paths = new List<string>();
        switch (node)
        {
            case JsonObject o when !path.EndsWith("seconds_in_state", StringComparison.Ordinal):
                foreach (var (key, value) in o)
                {
                    paths.Add(path + "/" + key);
                    if (value is not null)
                    {
                        paths.AddRange(KeyPaths(value, path + "/" + key));
                    }
                }

                break;
            case JsonArray a when a.FirstOrDefault() is { } first:
                paths.AddRange(KeyPaths(first, path + "[]"));
                break;
        }

        return paths;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}

/// <summary>The real-QEMU tests run one at a time: two TCG guests at once on two cores slow both.</summary>
[CollectionDefinition(nameof(RealQemu), DisableParallelization = true)]
public sealed class RealQemu;
