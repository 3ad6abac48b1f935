using System.Globalization;
using System.Text.Json.Nodes;
using Qmig.Cli.Tests.Receive;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Cli.Tests.Proxy;

/// <summary>
/// <c>qmig proxy</c> between two real QEMUs of the same version: the migration completes through
/// it, what it recorded is what passed each way, and its decoded figures agree with the source's
/// <c>query-migrate</c>. Postcopy switches at once (no waiting on precopy rounds, which a starved
/// guest on a loaded machine may never finish).
/// </summary>
[Collection(nameof(RealQemu))]
public sealed class ProxyMigrationTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-proxy-").FullName;

    public enum Mode
    {
        Precopy,
        Postcopy,
        PostcopyPreempt,
    }

    [Theory]
    [InlineData("7.2", Mode.Precopy)]
    [InlineData("7.2", Mode.Postcopy)]
    [InlineData("7.2", Mode.PostcopyPreempt)]
    [InlineData("10.0", Mode.Precopy)]
    [InlineData("10.0", Mode.Postcopy)]
    [InlineData("10.0", Mode.PostcopyPreempt)]
    public void MigrationCompletesThroughTheProxyAndItsFiguresAgreeWithTheSource(string version, Mode mode)
    {
        var qemu = QemuBuild.ByVersion(version);
        var disk = ReceivePostcopyTests.AssembleGuest(_work, "guest");
        var capabilities = mode switch
        {
            Mode.Precopy => new[] { "return-path" },
            Mode.Postcopy => ["postcopy-ram"],
            _ => ["postcopy-ram", "postcopy-preempt"],
        };
        using var destination = new QemuGuest(qemu, _work, "destination", Copy(disk, "destination"), "-incoming", "defer");
        destination.EnableCapabilities(capabilities);
        var destinationPort = ProxyProcess.FreePort();
        destination.Qmp.Execute("migrate-incoming", new { uri = $"tcp:127.0.0.1:{destinationPort}" });

        var record = Path.Combine(_work, "record");
        var statsFile = Path.Combine(_work, "stats.json");
        using var proxy = new ProxyProcess(_work, $"tcp:127.0.0.1:{destinationPort}", "--record", record, "--stats", statsFile);
        JsonNode final;
        using (var source = new QemuGuest(qemu, _work, "source", Copy(disk, "source")))
        {
            source.WaitGuestRunning();
            if (mode == Mode.Precopy)
            {
                source.EnableCapabilities(capabilities);
                source.Qmp.Execute("migrate", new { uri = proxy.Uri });
            }
            else
            {
                source.StartPostcopyMigration(proxy.Uri, preempt: mode == Mode.PostcopyPreempt, postcopyBandwidth: 4 << 20, precopyRounds: 0);
            }

            final = source.Qmp.WaitMigrate(m => m["status"]?.GetValue<string>() == "completed", TimeSpan.FromSeconds(180), "completion");
            output.WriteLine("source query-migrate: " + final.ToJsonString());
        }

        destination.WaitIncomingCompleted(TimeSpan.FromSeconds(60));
        destination.Qmp.Execute("quit");
        var (exit, stderr) = proxy.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(stderr);
        Assert.True(exit == 0, $"qmig proxy exited {exit}: {stderr}");

        var stats = JsonNode.Parse(File.ReadAllText(statsFile))!;
        output.WriteLine(stats.ToJsonString());
        Assert.Equal("completed", stats["outcome"]!.GetValue<string>());
        Assert.Empty(stats["decode_errors"]!.AsArray());
        var ram = final["ram"]!;
        Assert.Equal(ram["normal"]!.GetValue<long>(), stats["pages"]!["normal"]!.GetValue<long>());
        Assert.Equal(ram["duplicate"]!.GetValue<long>(), stats["pages"]!["zero"]!.GetValue<long>());
        var requests = stats["requests"]!["count"]!.GetValue<long>();
        if (mode == Mode.Precopy)
        {
            Assert.Equal("POSTCOPY_INCOMING_NONE", stats["postcopy_state"]!.GetValue<string>());
            Assert.True(stats["rounds"]!["ended"]!.GetValue<int>() >= 1, "no precopy round ended at its EOS");
            Assert.Equal(0, requests);
        }
        else
        {
            Assert.Equal("POSTCOPY_INCOMING_END", stats["postcopy_state"]!.GetValue<string>());
            Assert.Equal(ram["postcopy-requests"]!.GetValue<long>(), requests);
            Assert.True(stats["commands"]!["POSTCOPY_RUN"]!.GetValue<long>() == 1, "POSTCOPY_RUN was not counted once");
        }

        // Every byte each side sent is in its file: the recorder wrote exactly what the proxy counted on the other socket.
        var connections = stats["connections"]!.AsArray();
        Assert.Contains(connections, c => c!["channel"]!.GetValue<string>() == "main");
        if (mode == Mode.PostcopyPreempt)
        {
            Assert.Contains(connections, c => c!["channel"]!.GetValue<string>() == "preempt");
        }

        foreach (var connection in connections)
        {
            foreach (var direction in (string[])["forward", "return"])
            {
                var file = Path.Combine(record, connection![$"{direction}_file"]!.GetValue<string>());
                Assert.True(File.Exists(file), $"{file} was not recorded");
                Assert.Equal(connection[$"{direction}_bytes"]!.GetValue<long>(), new FileInfo(file).Length);
            }
        }

        AssertChunksCoverFile(record, "main-forward.mig");

        // The recorded main stream reads on its own as a whole stream, with the commands the proxy counted as they passed.
        var (statsExit, statsOut, statsErr) = QmigProcess.Run("stats", Path.Combine(record, "main-forward.mig"), "--format", "json");
        Assert.True(statsExit == 0, $"qmig stats main-forward.mig: {statsExit} {statsErr}");
        var recorded = JsonNode.Parse(statsOut)!;
        Assert.True(recorded["complete"]!.GetValue<bool>(), "the recorded main stream is not complete");
        Assert.Equal(stats["commands"]!.ToJsonString(), recorded["commands"]!.ToJsonString());
        long offlinePages = Flag(recorded, "PAGE"), offlineZero = Flag(recorded, "ZERO");
        if (mode == Mode.PostcopyPreempt)
        {
            string[] preemptArgs = [Path.Combine(record, "preempt-forward.mig"), "--preempt-channel", "--blocks-from", Path.Combine(record, "main-forward.mig")];
            var (preemptExit, preemptOut, preemptErr) = QmigProcess.Run(["stats", .. preemptArgs, "--format", "json"]);
            Assert.True(preemptExit == 0, $"qmig stats preempt-forward.mig: {preemptExit} {preemptErr}");
            var preempt = JsonNode.Parse(preemptOut)!;
            offlinePages += Flag(preempt, "PAGE");
            offlineZero += Flag(preempt, "ZERO");
            var (dumpExit, _, dumpErr) = QmigProcess.Run(["dump", .. preemptArgs]);
            Assert.True(dumpExit == 0, $"qmig dump preempt-forward.mig: {dumpExit} {dumpErr}");
        }

        // Read again offline, the recorded channels hold the pages the proxy counted as they passed.
        Assert.Equal(stats["pages"]!["normal"]!.GetValue<long>(), offlinePages);
        Assert.Equal(stats["pages"]!["zero"]!.GetValue<long>(), offlineZero);
        var (rpExit, _, rpErr) = QmigProcess.Run("check", Path.Combine(record, "main-return.bin"), "--return-path");
        Assert.True(rpExit == 0, $"qmig check --return-path main-return.bin: {rpExit} {rpErr}");
    }

    private static long Flag(JsonNode stats, string name) => stats["ram"]!["flags"]![name]?.GetValue<long>() ?? 0;

    /// <summary>chunks.jsonl lists the file's chunks back to back, from 0 to its length.</summary>
    private static void AssertChunksCoverFile(string record, string name)
    {
        long next = 0;
        foreach (var line in File.ReadLines(Path.Combine(record, "chunks.jsonl")))
        {
            var chunk = JsonNode.Parse(line)!;
            if (chunk["file"]!.GetValue<string>() != name)
            {
                continue;
            }

            Assert.Equal(next, chunk["offset"]!.GetValue<long>());
            next += chunk["length"]!.GetValue<long>();
        }

        Assert.Equal(new FileInfo(Path.Combine(record, name)).Length, next);
    }

    private string Copy(string disk, string name)
    {
        var copy = Path.Combine(_work, name + ".img");
        File.Copy(disk, copy);
        return copy;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
