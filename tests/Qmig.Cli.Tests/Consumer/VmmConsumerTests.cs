using System.Diagnostics;
using System.Text.Json.Nodes;
using Qmig.Cli.Tests.Receive;
using Qmig.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Consumer;

/// <summary>
/// tests/Qmig.Consumer, the VMM-shaped program outside Protocol.sln that uses qmig from its packages
/// alone, with specs of its own (test.sh packs the packages and builds it with warnings as errors):
/// its own record round-trips beside the protocol's types, it reads real streams as qmig does, and it
/// receives a real QEMU 7.2 postcopy migration into memory it mapped itself.
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class VmmConsumerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-consumer-").FullName;

    [Fact]
    public void ItsOwnRecordRoundTripsAndItsOwnMachineRunsBesideQmigs()
    {
        var (exit, stdout, stderr) = Run("roundtrip");
        Assert.True(exit == 0, $"roundtrip exited with {exit}: {stderr}");
        // 5e9 big-endian in 8 bytes, then 1e6 in 4: the consumer's own spec, written by its generated writer.
        Assert.Contains("timer_state 000000012A05F200000F4240 deadline_ns=5000000000 period_ns=1000000", stdout, StringComparison.Ordinal);
        Assert.Contains("door Closed -> Open; machines: door; qmig's: 3", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void ItReadsARealStreamAsQmigDoes(string name)
    {
        var path = Path.Combine(Repository.Root, "tests", "data", name);
        var (exit, stdout, stderr) = Run("read", path);
        Assert.True(exit == 0, $"read exited with {exit}: {stderr}");
        var (statsExit, statsJson, statsError) = QmigProcess.Run("stats", "--format", "json", path);
        Assert.True(statsExit == 0, statsError);
        var ram = JsonNode.Parse(statsJson)!["ram"]!;
        var flags = ram["flags"]!;
        Assert.Contains($"ram_records={ram["records"]!.GetValue<long>()} pages={flags["PAGE"]?.GetValue<long>() ?? 0} zero_pages={flags["ZERO"]?.GetValue<long>() ?? 0} ", stdout, StringComparison.Ordinal);
        Assert.Contains("complete=True", stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string> Streams() => ["pc-32m-paused/pc-32m-paused.mig", "pc-64m-running/pc-64m-running.mig", "pc-32m-paused-qemu10/pc-32m-paused.mig"];

    [Fact]
    public async Task ItReceivesARealQemuPostcopyMigrationIntoItsOwnMemory()
    {
        var port = Loopback.FreePort();
        var ramFile = Path.Combine(_work, "consumer.ram");
        using var consumer = Start("receive", port.ToString(System.Globalization.CultureInfo.InvariantCulture), ramFile);
        var stdout = consumer.StandardOutput.ReadToEndAsync();
        var stderr = consumer.StandardError.ReadToEndAsync();
        byte[] sourceRam;
        using (var source = new QemuGuest(QemuBuild.Debian72, _work, "source", ReceivePostcopyTests.AssembleGuest(_work, "source")))
        {
            source.WaitGuestRunning();
            WaitUntilListening(port, consumer);
            source.StartPostcopyMigration($"tcp:127.0.0.1:{port}", preempt: false, postcopyBandwidth: 256 << 10, precopyRounds: 0);
            source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(120), "completion");
            sourceRam = source.SaveMemory(Path.Combine(_work, "source.ram"));
        }

        Assert.True(consumer.WaitForExit(TimeSpan.FromSeconds(60)), "the consumer did not end after the migration completed");
        var said = await stdout;
        output.WriteLine(said + await stderr);
        Assert.True(consumer.ExitCode == 0, $"the consumer exited with {consumer.ExitCode}: {said}");
        Assert.Contains("outcome=Completed", said, StringComparison.Ordinal);
        // The device state reached its POSTCOPY_RUN hook, where a VMM would load it.
        var devices = int.Parse(said.Split("devices_at_run=")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(devices > 5, $"only {devices} device sections reached the RUN hook");
        GuestMemory.AssertSame(sourceRam, File.ReadAllBytes(ramFile), "the consumer's own pc.ram after the migration", GuestMemory.VgaWindow);
    }

    /// <summary>The consumer built by test.sh, which must come from this build's packages.</summary>
    private static string ConsumerDll()
    {
        var built = Path.Combine(Repository.Root, "tests", "Qmig.Consumer", "bin", "Release", "net10.0");
        var dll = Path.Combine(built, "Vmm.Consumer.dll");
        Assert.True(File.Exists(dll), $"{dll} does not exist: ./test.sh packs the packages and builds tests/Qmig.Consumer from them");
        // Deterministic builds: the consumer's copy of the runtime is this build's exactly when the packages were packed from it.
        var ours = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Qmig.Postcopy.dll"));
        Assert.True(ours.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(built, "Qmig.Postcopy.dll"))),
            "tests/Qmig.Consumer was built from packages of other sources than these tests: run ./test.sh, which packs them and builds it again");
        return dll;
    }

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [ConsumerDll(), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return Process.Start(start) ?? throw new InvalidOperationException("the consumer did not start");
    }

    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "the consumer did not end within 60 s");
        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>Waits until the consumer accepts on its port, so that QEMU's migrate does not find it closed.</summary>
    private static void WaitUntilListening(int port, Process consumer)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(consumer.HasExited, "the consumer ended before it listened");
            try
            {
                // A connection that is accepted and dropped would be taken for the source: look at the listening table instead.
                if (File.ReadAllText("/proc/net/tcp").Contains($":{port:X4} 00000000:0000 0A", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (IOException)
            {
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the consumer did not listen within 60 s");
            Thread.Sleep(50);
        }
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
