using System.Buffers.Binary;
using System.Text.Json;
using Xunit;

namespace Qmig.Cli.Tests;

/// <summary>
/// The second and third channels of a migration on the command line: <c>check --return-path</c>,
/// <c>stats/dump/check --preempt-channel --blocks-from</c>, and mapped-ram counts, on the real
/// captures in tests/data.
/// </summary>
public class ChannelCommandTests
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "data");
    private static readonly string Preempt = Path.Combine(Data, "pc-32m-postcopy-preempt");

    [Theory]
    [InlineData("pc-32m-postcopy-preempt")]
    [InlineData("pc-32m-postcopy")]
    [InlineData("pc-32m-postcopy-qemu10")]
    public void CheckReturnPathAcceptsTheRealCapturesAndTheirPageRequests(string folder)
    {
        var dir = Path.Combine(Data, folder);
        var (code, output, error) = QmigProcess.Run("check", "--return-path", Path.Combine(dir, "postcopy-return-path.bin"),
            "--blocks-from", Path.Combine(dir, "postcopy-forward.mig"));
        Assert.True(code == 0, error);
        Assert.Contains("page requests inside their blocks", output, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckReturnPathWithoutBlocksChecksTheMessagesOnly()
    {
        var (code, output, error) = QmigProcess.Run("check", "--return-path", Path.Combine(Preempt, "postcopy-return-path.bin"));
        Assert.True(code == 0, error);
        Assert.Contains("not checked", output, StringComparison.Ordinal);
    }

    [Fact]
    public void APageRequestBeyondItsBlockIsQmig1504()
    {
        // The first REQ_PAGES_ID (offset 32) asks for pc.ram page 0x78000; move it past the 32 MiB block.
        var bytes = File.ReadAllBytes(Path.Combine(Preempt, "postcopy-return-path.bin"));
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(32)));
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(36), 0x2000000);
        var path = Path.Combine(Path.GetTempPath(), $"qmig-rp-{Environment.ProcessId}.bin");
        File.WriteAllBytes(path, bytes);
        try
        {
            var (code, _, error) = QmigProcess.Run("check", "--return-path", path, "--blocks-from", Path.Combine(Preempt, "postcopy-forward.mig"));
            Assert.Equal(1, code);
            Assert.Contains(":0x24: error QMIG1504", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TruncatedReturnPathIsQmig1104()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Preempt, "postcopy-return-path.bin")).AsSpan(0, 40).ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"qmig-rp-cut-{Environment.ProcessId}.bin");
        File.WriteAllBytes(path, bytes);
        try
        {
            var (code, _, error) = QmigProcess.Run("check", "--return-path", path);
            Assert.Equal(1, code);
            Assert.Contains("QMIG1104", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void StatsOfThePreemptChannelEqualTheIndependentCount()
    {
        var (code, output, error) = QmigProcess.Run("stats", Path.Combine(Preempt, "postcopy-preempt.mig"), "--preempt-channel",
            "--blocks-from", Path.Combine(Preempt, "postcopy-forward.mig"), "--format", "json");
        Assert.True(code == 0, error);
        var got = JsonDocument.Parse(output).RootElement;
        var want = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Preempt, "expected-counts.json"))).RootElement.GetProperty("postcopy-preempt.mig");
        Assert.Equal(want.GetProperty("consumed").GetInt64(), got.GetProperty("consumed").GetInt64());
        Assert.Equal(want.GetProperty("ram").GetProperty("records").GetInt64(), got.GetProperty("ram").GetProperty("records").GetInt64());
        Assert.Equal(Flags(want), Flags(got));
        Assert.Equal(
            want.GetProperty("ram").GetProperty("blocks").GetProperty("pc.ram").GetProperty("pages").GetInt64(),
            got.GetProperty("ram").GetProperty("blocks").GetProperty("pc.ram").GetProperty("pages").GetInt64());
    }

    private static Dictionary<string, long> Flags(JsonElement counts) =>
        counts.GetProperty("ram").GetProperty("flags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    [Fact]
    public void ThePreemptChannelNeedsItsMainStream()
    {
        var (code, _, error) = QmigProcess.Run("dump", Path.Combine(Preempt, "postcopy-preempt.mig"), "--preempt-channel");
        Assert.Equal(2, code);
        Assert.Contains("--blocks-from", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pc-2m-mapped-ram-qemu10")]
    [InlineData("pc-2m-mapped-ram-multifd-qemu10")]
    public void StatsOfAMappedRamFileShowEachBlocksLayoutAndPages(string folder)
    {
        var dir = Path.Combine(Data, folder);
        var (code, output, error) = QmigProcess.Run("stats", Path.Combine(dir, folder + ".mig"), "--format", "json");
        Assert.True(code == 0, error);
        var got = JsonDocument.Parse(output).RootElement;
        var want = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "expected-counts.json"))).RootElement;
        Assert.Equal(want.GetProperty("size").GetInt64(), got.GetProperty("consumed").GetInt64());
        foreach (var block in want.GetProperty("mapped_ram").EnumerateObject())
        {
            var mine = got.GetProperty("mapped_ram").GetProperty(block.Name);
            foreach (var field in new[] { "bitmap_offset", "bitmap_bytes", "pages_offset", "pages_present" })
            {
                Assert.Equal(block.Value.GetProperty(field).GetInt64(), mine.GetProperty(field).GetInt64());
            }

            Assert.Equal(block.Value.GetProperty("pages_present").GetInt64(), mine.GetProperty("pages_read").GetInt64());
        }
    }
}
