using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Qmig.Cli.Tests.Receive;
using Qmig.TestSupport;

namespace Qmig.Soak;

/// <summary>
/// Runs N real-QEMU postcopy migrations one after another through qmig's command tree in this
/// process (<c>receive</c> from QEMU 7.2 and 10.0 sources, with and without preempt, TLS, and a
/// break resumed with <c>--recover</c>; <c>serve</c> of saved guests into QEMU destinations) and,
/// after each, samples this process's open descriptors, threads, RSS and managed heap. A leak in
/// the runtime or the CLI shows as growth after the first runs.
/// </summary>
internal static class Program
{
    private static readonly Scenario[] Cycle =
    [
        new("receive 7.2", Role.Receive, "7.2"),
        new("receive 10.0 preempt", Role.Receive, "10.0", Preempt: true),
        new("receive 7.2 preempt, break and recover", Role.Receive, "7.2", Preempt: true, Recover: true),
        new("receive 10.0, break and recover", Role.Receive, "10.0", Recover: true),
        new("serve 7.2", Role.Serve, "7.2"),
        new("receive 10.0 TLS preempt", Role.Receive, "10.0", Preempt: true, Tls: true),
        new("serve 10.0 preempt", Role.Serve, "10.0", Preempt: true),
        new("receive 7.2 TLS, break and recover", Role.Receive, "7.2", Tls: true, Recover: true),
        new("serve 10.0 TLS", Role.Serve, "10.0", Tls: true),
    ];

    public static int Main(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var report = args.Length > 1 ? args[1] : "soak.jsonl";
        // A third argument keeps only the scenarios whose name contains it, to find which one grows.
        var cycle = args.Length > 2 ? Cycle.Where(s => s.Name.Contains(args[2], StringComparison.OrdinalIgnoreCase)).ToArray() : Cycle;
        if (cycle.Length == 0)
        {
            Console.Error.WriteLine($"no scenario name contains '{args[2]}'; they are: {string.Join("; ", Cycle.Select(s => s.Name))}");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("qmig-soak-").FullName;
        using var ca = new TestCertificateAuthority("qmig soak CA");
        var credentials = ca.WriteCredentials(Path.Combine(work, "creds"), ["localhost", "127.0.0.1"]);
        var saved = new Dictionary<string, string>
        {
            ["7.2"] = SaveDirtyGuest(QemuBuild.Debian72, work),
            ["10.0"] = SaveDirtyGuest(QemuBuild.Backports100, work),
        };

        using var output = new StreamWriter(report) { AutoFlush = true };
        IReadOnlyList<string>? descriptorsAfterWarmUp = null;
        var samples = new List<Sample>();
        var failures = new List<string>();
        for (var run = 1; run <= runs; run++)
        {
            var scenario = cycle[(run - 1) % cycle.Length];
            var clock = Stopwatch.StartNew();
            string? failure;
            try
            {
                failure = scenario.Role == Role.Receive ? Receive(scenario, work, credentials) : Serve(scenario, work, saved[scenario.Version], credentials);
            }
            catch (Exception e)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
            }

            var sample = Sample.Take(run, scenario.Name, failure, clock.Elapsed.TotalSeconds);
            samples.Add(sample);
            if (failure is not null)
            {
                failures.Add($"run {run} ({scenario.Name}): {failure}");
            }

            if (run == cycle.Length + 1)
            {
                descriptorsAfterWarmUp = OpenDescriptors();
            }

            output.WriteLine(JsonSerializer.Serialize(sample));
            Console.WriteLine($"{run,3} {(failure is null ? "completed" : "FAILED   ")} {sample.Seconds,6:F1} s  fds {sample.Fds,4}  threads {sample.Threads,3} (qmig {sample.QmigThreads})  rss {sample.RssMiB,6:F1} MiB  committed {sample.CommittedMiB,6:F1} MiB  heap {sample.HeapMiB,6:F1} MiB  anon {sample.RssAnonMiB,5:F1} file {sample.RssFileMiB,5:F1} shmem {sample.RssShmemMiB,4:F1}  malloc {sample.MallocHeldMiB,5:F1} (free {sample.MallocFreeMiB,4:F1})  jit {sample.JitMethods,5}  {scenario.Name}{(failure is null ? "" : ": " + failure)}");
        }

        Directory.Delete(work, recursive: true);
        if (descriptorsAfterWarmUp is not null)
        {
            // What a reader needs to tell a leak from a handle opened once, late.
            var now = OpenDescriptors();
            Console.WriteLine($"descriptors opened since run {cycle.Length + 1}: {string.Join(", ", now.Except(descriptorsAfterWarmUp).DefaultIfEmpty("none"))}; closed: {string.Join(", ", descriptorsAfterWarmUp.Except(now).DefaultIfEmpty("none"))}");
        }

        return Summarize(samples, failures, cycle.Length);
    }

    /// <summary>Prints the verdict: every run completed, and no descriptor or thread growth after the first cycle.</summary>
    private static int Summarize(List<Sample> samples, List<string> failures, int cycleLength)
    {
        var warm = samples.Skip(cycleLength).ToList();
        var completed = samples.Count - failures.Count;
        Console.WriteLine($"completed {completed}/{samples.Count}");
        foreach (var failure in failures)
        {
            Console.WriteLine("  " + failure);
        }

        if (warm.Count == 0)
        {
            Console.WriteLine($"fewer than {cycleLength + 1} runs: no growth figures");
            return failures.Count == 0 ? 0 : 1;
        }

        var first = warm[0];
        var last = warm[^1];
        Console.WriteLine($"after run {first.Run} (the first cycle is warm-up) to run {last.Run}: fds {first.Fds} -> {last.Fds} (max {warm.Max(s => s.Fds)}), threads {first.Threads} -> {last.Threads} (max {warm.Max(s => s.Threads)}; the runtime's own {first.QmigThreads} -> {last.QmigThreads}), RSS {first.RssMiB:F1} -> {last.RssMiB:F1} MiB (max {warm.Max(s => s.RssMiB):F1}), GC committed {first.CommittedMiB:F1} -> {last.CommittedMiB:F1} MiB, managed heap {first.HeapMiB:F1} -> {last.HeapMiB:F1} MiB");
        // RSS moves with the JIT: tiered compilation keeps recompiling hot methods for many runs, and
        // their code (shared memory under W^X) and the JIT's own data grow with it. Run with
        // DOTNET_TieredCompilation=0 to see the runs' own memory alone.
        Console.WriteLine($"  RSS by kind: anonymous {first.RssAnonMiB:F1} -> {last.RssAnonMiB:F1} MiB (glibc malloc {first.MallocHeldMiB:F1} -> {last.MallocHeldMiB:F1}), file {first.RssFileMiB:F1} -> {last.RssFileMiB:F1} MiB, shared {first.RssShmemMiB:F1} -> {last.RssShmemMiB:F1} MiB; methods JIT-compiled {first.JitMethods} -> {last.JitMethods}");

        // A descriptor that a run leaks is still there in every later run, so the last cycle's
        // fewest exceed the first measured cycle's most; one closing a moment late does not. The
        // runtime's own threads all end with their run.
        var firstCycle = warm.Take(cycleLength).ToList();
        var lastCycle = warm.TakeLast(cycleLength).ToList();
        var fdsGrew = lastCycle.Min(s => s.Fds) > firstCycle.Max(s => s.Fds);
        var threadsGrew = warm.Any(s => s.QmigThreads > 0);
        if (fdsGrew || threadsGrew)
        {
            Console.WriteLine("growth: " + (fdsGrew ? "descriptors " : "") + (threadsGrew ? "qmig threads left running after their run" : ""));
        }

        return failures.Count == 0 && !fdsGrew && !threadsGrew ? 0 : 1;
    }

    private static string? Receive(Scenario scenario, string work, string credentials)
    {
        var qemu = QemuBuild.ByVersion(scenario.Version);
        var port = Loopback.FreePort();
        var outMig = Path.Combine(work, "out.mig");
        string[] options =
        [
            "receive", "--listen", $"tcp:127.0.0.1:{port}", "-o", outMig, "--touch", "random",
            .. (string[])(scenario.Preempt ? ["--postcopy-preempt"] : []),
            .. (string[])(scenario.Recover ? ["--recover"] : []),
            .. (string[])(scenario.Tls ? ["--tls-creds", credentials] : []),
        ];
        var log = new StringWriter();
        var previousError = Console.Error;
        Console.SetError(TextWriter.Synchronized(log));
        try
        {
            var receiving = Task.Factory.StartNew(() => Qmig.Cli.Program.Run(options, TextWriter.Null, log), TaskCreationOptions.LongRunning);
            WaitListening(port, receiving);
            using (var source = new QemuGuest(qemu, work, "source", ReceivePostcopyTests.AssembleGuest(work, "source"),
                       scenario.Tls ? ["-object", $"tls-creds-x509,id=tls0,dir={credentials},endpoint=client"] : []))
            {
                if (scenario.Tls)
                {
                    source.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["tls-creds"] = "tls0", ["tls-hostname"] = "localhost" });
                }

                source.WaitGuestRunning();
                source.StartPostcopyMigration($"tcp:127.0.0.1:{port}", scenario.Preempt, postcopyBandwidth: scenario.Recover ? 64 << 10 : 256 << 10, precopyRounds: 0);
                if (scenario.Recover)
                {
                    source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-active", TimeSpan.FromSeconds(60), "postcopy");
                    Thread.Sleep(200);
                    source.Qmp.Execute("migrate-pause");
                    source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "postcopy-paused", TimeSpan.FromSeconds(30), "postcopy-paused");
                    source.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["max-postcopy-bandwidth"] = 1 << 20 });
                    source.Qmp.Execute("migrate", new { uri = $"tcp:127.0.0.1:{port}", resume = true });
                }

                source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "completion");
            }

            if (!receiving.Wait(TimeSpan.FromSeconds(60)))
            {
                return "qmig receive did not end within 60 s of the source's completion: " + Last(log);
            }

            if (receiving.Result != 0)
            {
                return $"qmig receive exited with {receiving.Result}: {Last(log)}";
            }

            if (scenario.Recover && !log.ToString().Contains("postcopy-recover", StringComparison.Ordinal))
            {
                return "the migration was never paused and recovered: " + Last(log);
            }

            return File.Exists(outMig) ? null : "no OUT.mig was written";
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            return $"{e.Message}; qmig receive said: {Last(log)}";
        }
        finally
        {
            Console.SetError(previousError);
            File.Delete(outMig);
        }
    }

    private static string? Serve(Scenario scenario, string work, string saved, string credentials)
    {
        var qemu = QemuBuild.ByVersion(scenario.Version);
        using var destination = new QemuGuest(qemu, work, "destination", ReceivePostcopyTests.AssembleGuest(work, "destination"),
            [.. (string[])(scenario.Tls ? ["-object", $"tls-creds-x509,id=tls0,dir={credentials},endpoint=server"] : []), "-incoming", "defer"]);
        destination.EnableCapabilities(scenario.Preempt ? ["postcopy-ram", "postcopy-preempt"] : ["postcopy-ram"]);
        if (scenario.Tls)
        {
            destination.Qmp.Execute("migrate-set-parameters", new Dictionary<string, object> { ["tls-creds"] = "tls0" });
        }

        var address = $"tcp:127.0.0.1:{Loopback.FreePort()}";
        destination.Qmp.Execute("migrate-incoming", new { uri = address });
        var log = new StringWriter();
        var previousError = Console.Error;
        Console.SetError(TextWriter.Synchronized(log));
        try
        {
            // 256 KiB/s: the running guest asks for pages while the background stream is still going.
            var exit = Qmig.Cli.Program.Run(["serve", saved, "--to", address, "--max-bandwidth", "256K",
                .. (string[])(scenario.Preempt ? ["--postcopy-preempt"] : []),
                .. (string[])(scenario.Tls ? ["--tls-creds", credentials] : [])], TextWriter.Null, log);
            if (exit != 0)
            {
                return $"qmig serve exited with {exit}: {Last(log)}";
            }

            destination.WaitIncomingCompleted(TimeSpan.FromSeconds(30));
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            return $"{e.Message}; qmig serve said: {Last(log)}";
        }
        finally
        {
            Console.SetError(previousError);
        }
    }

    private static string SaveDirtyGuest(QemuBuild qemu, string work)
    {
        var path = Path.Combine(work, $"saved-{qemu.Version}.mig");
        SavedDirtyGuest.Save(qemu, work, path);
        return path;
    }

    /// <summary>Each open descriptor as "number: target" (a file, socket:[inode], anon_inode:[eventfd], ...).</summary>
    private static List<string> OpenDescriptors() =>
        Directory.GetFiles("/proc/self/fd")
            .Select(path =>
            {
                try
                {
                    return $"{Path.GetFileName(path)}: {new FileInfo(path).LinkTarget}";
                }
                catch (IOException)
                {
                    return null;
                }
            })
            .OfType<string>()
            .ToList();

    /// <summary>Waits until the port is listening, read from /proc/net/tcp so that no probe connection reaches qmig.</summary>
    private static void WaitListening(int port, Task<int> receiving)
    {
        var entry = $"0100007F:{port:X4} 00000000:0000 0A";
        var clock = Stopwatch.StartNew();
        while (!File.ReadAllText("/proc/net/tcp").Contains(entry, StringComparison.Ordinal))
        {
            if (receiving.IsCompleted)
            {
                throw new InvalidOperationException($"qmig receive ended before listening (exit {receiving.Result})");
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("qmig receive did not listen within 30 s");
            }

            Thread.Sleep(10);
        }
    }

    private static string Last(StringWriter log)
    {
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(" | ", lines.TakeLast(3));
    }


    private enum Role
    {
        Receive,
        Serve,
    }

    private sealed record Scenario(string Name, Role Role, string Version, bool Preempt = false, bool Recover = false, bool Tls = false);

    /// <summary>This process after one run, once the garbage collector has finalized what the run dropped.</summary>
    /// <remarks>
    /// <see cref="QmigThreads"/> counts the runtime's own named threads (fault thread, preempt
    /// channel, stand-in vCPUs), which a run must end; <see cref="Threads"/> also counts the .NET
    /// thread pool, which grows and shrinks by itself.
    /// </remarks>
    /// <remarks>
    /// RSS is split the way the kernel counts it (anonymous, file-backed, shared memory), and the
    /// anonymous part is set against what glibc's allocator holds (<see cref="MallocHeldMiB"/>: its
    /// arenas and large blocks; <see cref="MallocFreeMiB"/> of that is free but kept) and how many
    /// methods the JIT has compiled so far, which is what tells a leak from memory a process keeps.
    /// </remarks>
    private sealed record Sample(int Run, string Scenario, string? Failure, double Seconds, int Fds, int Threads, int QmigThreads, double RssMiB, double CommittedMiB, double HeapMiB,
        double RssAnonMiB, double RssFileMiB, double RssShmemMiB, double MallocHeldMiB, double MallocFreeMiB, long JitMethods)
    {
        public static Sample Take(int run, string scenario, string? failure, double seconds)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (Environment.GetEnvironmentVariable("QMIG_SOAK_MALLOC_TRIM") == "1")
            {
                MallocTrim(0);
            }

            var malloc = MallInfo2();
            var status = File.ReadAllLines("/proc/self/status");
            double Field(string name) => double.Parse(status.Single(line => line.StartsWith(name + ":", StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            var qmigThreads = Directory.GetDirectories("/proc/self/task")
                .Count(task => File.Exists(Path.Combine(task, "comm")) && File.ReadAllText(Path.Combine(task, "comm")).StartsWith("qmig", StringComparison.Ordinal));
            return new Sample(run, scenario, failure, Math.Round(seconds, 2), RunDescriptors(), (int)Field("Threads"), qmigThreads,
                Math.Round(Field("VmRSS") / 1024, 1), Math.Round(GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0, 1),
                Math.Round(GC.GetTotalMemory(forceFullCollection: false) / 1048576.0, 1),
                Math.Round(Field("RssAnon") / 1024, 1), Math.Round(Field("RssFile") / 1024, 1), Math.Round(Field("RssShmem") / 1024, 1),
                Math.Round((malloc.Arena + malloc.MappedBytes) / 1048576.0, 1), Math.Round(malloc.FreeBytes / 1048576.0, 1),
                System.Runtime.JitInfo.GetCompiledMethodCount());
        }
    }

    /// <summary>
    /// Open descriptors, less the application's own files (assemblies and symbol files under its
    /// base directory): .NET opens a symbol file the first time it puts line numbers into a stack
    /// trace and keeps it for the life of the process, which is not something a run holds.
    /// </summary>
    private static int RunDescriptors() =>
        Directory.GetFiles("/proc/self/fd").Count(path =>
        {
            try
            {
                return new FileInfo(path).LinkTarget is not { } target || !target.StartsWith(AppContext.BaseDirectory, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        });

    /// <summary>glibc's <c>struct mallinfo2</c>: what the C allocator has taken from the kernel and how much of it is free.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private readonly struct MallocInfo
    {
        public readonly nuint Arena;
        public readonly nuint FreeChunks;
        public readonly nuint FastBins;
        public readonly nuint MappedBlocks;
        public readonly nuint MappedBytes;
        public readonly nuint Unused1;
        public readonly nuint FastBinBytes;
        public readonly nuint InUseBytes;
        public readonly nuint FreeBytes;
        public readonly nuint TopReleasable;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallocInfo MallInfo2();

    /// <summary>Returns free memory at the top of glibc's heaps to the kernel; the soak calls it when QMIG_SOAK_MALLOC_TRIM is set, to see how much of the RSS is memory the allocator kept.</summary>
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
