using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Qmig.Cli.Tests.Dump;

/// <summary><c>qmig stats --format json</c>'s rounds against the independent walker (tests/fixtures/walk_stream.py --rounds) on real streams.</summary>
public class StatsRoundsTests
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "data");

    [Theory]
    [InlineData("pc-64m-running/pc-64m-running.mig")]
    [InlineData("pc-32m-xbzrle/pc-32m-xbzrle.mig")]
    [InlineData("pc-32m-compress/pc-32m-compress.mig")]
    [InlineData("pc-32m-postcopy/postcopy-forward.mig")]
    [InlineData("pc-32m-postcopy-qemu10/postcopy-forward.mig")]
    [InlineData("pc-32m-paused-qemu10/pc-32m-paused.mig")]
    [InlineData("pc-2m-mapped-ram-qemu10/pc-2m-mapped-ram-qemu10.mig")]
    [InlineData("q35-devices/q35-devices.mig")]
    public void RoundsEqualTheIndependentWalkersCount(string stream)
    {
        var path = Path.Combine(Data, stream);
        using var expected = JsonDocument.Parse(Walk(path));
        var (code, output, error) = QmigProcess.Run("stats", path, "--format", "json");
        Assert.True(code == 0, error);
        using var actual = JsonDocument.Parse(output);

        Assert.Equal(expected.RootElement.GetProperty("iterations").GetInt32(), actual.RootElement.GetProperty("iterations").GetInt32());
        var want = expected.RootElement.GetProperty("rounds").EnumerateArray().ToList();
        var got = actual.RootElement.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(want.Count, got.Count);
        Assert.True(want.Count >= 3, $"{stream}: only {want.Count} RAM section bodies");
        for (var i = 0; i < want.Count; i++)
        {
            foreach (var key in new[] { "section", "phase" })
            {
                Assert.Equal(want[i].GetProperty(key).GetString(), got[i].GetProperty(key).GetString());
            }

            long pages = 0;
            foreach (var key in new[] { "zero_pages", "normal_pages", "xbzrle_pages", "xbzrle_bytes", "compressed_pages", "mapped_pages" })
            {
                Assert.True(want[i].GetProperty(key).GetInt64() == got[i].GetProperty(key).GetInt64(), $"{stream} round {i} {key}");
                pages += key == "xbzrle_bytes" ? 0 : want[i].GetProperty(key).GetInt64();
            }

            Assert.Equal(pages, got[i].GetProperty("pages").GetInt64());
            Assert.True(got[i].GetProperty("eos").GetBoolean());
        }
    }

    [Fact]
    public void TheTextTableHasOneRowPerRound()
    {
        var path = Path.Combine(Data, "pc-64m-running/pc-64m-running.mig");
        var text = QmigProcess.Run("stats", path).Output.Split('\n');
        using var json = JsonDocument.Parse(QmigProcess.Run("stats", path, "--format", "json").Output);
        var header = Array.FindIndex(text, line => line.TrimStart().StartsWith("round ", StringComparison.Ordinal));
        Assert.True(header > 0, "no round table in: " + string.Join('\n', text));
        foreach (var (round, i) in json.RootElement.GetProperty("rounds").EnumerateArray().Select((r, i) => (r, i)))
        {
            var cells = text[header + 1 + i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(round.GetProperty("round").GetString(), cells[0]);
            Assert.Equal(round.GetProperty("pages").GetInt64().ToString(), cells[3]);
            Assert.Equal(round.GetProperty("zero_pages").GetInt64().ToString(), cells[4]);
        }
    }

    private static string Walk(string stream)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "fixtures", "walk_stream.py"), stream, "--rounds" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start python3 for walk_stream.py");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "walk_stream.py did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"walk_stream.py {stream}: {error.Result}");
        return output;
    }
}
