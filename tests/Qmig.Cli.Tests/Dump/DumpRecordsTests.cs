using System.IO.Compression;
using System.Text.RegularExpressions;
using Xunit;

namespace Qmig.Cli.Tests.Dump;

/// <summary>
/// The text dump folds runs of page records by default; <c>--records all</c> prints every record
/// exactly as qmig printed it before folding existed (the committed dumps in Dump/records-all).
/// </summary>
public partial class DumpRecordsTests
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "data");
    private static readonly string Before = Path.Combine(AppContext.BaseDirectory, "dump-records-all");

    public static TheoryData<string> Dumps()
    {
        var dumps = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Before, "*.txt.gz").Order(StringComparer.Ordinal))
        {
            dumps.Add(Path.GetFileName(file));
        }

        return dumps;
    }

    private static string[] DumpArgs(string stream, params string[] extra)
    {
        var path = Path.Combine(Data, stream);
        return Path.GetFileName(stream) == "postcopy-preempt.mig"
            ? ["dump", path, .. extra, "--preempt-channel", "--blocks-from", Path.Combine(Path.GetDirectoryName(path)!, "postcopy-forward.mig")]
            : ["dump", path, .. extra];
    }

    private static string StreamOf(string dumpName)
    {
        var parts = dumpName[..^".txt.gz".Length].Split("__");
        return Path.Combine(parts[0], parts[1] + ".mig");
    }

    [Theory]
    [MemberData(nameof(Dumps))]
    public void RecordsAllPrintsWhatTheDumpPrintedBeforeRunsWereFolded(string dumpName)
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(Before, dumpName)), CompressionMode.Decompress);
        var expected = new StreamReader(gz).ReadToEnd();
        var (code, output, error) = QmigProcess.Run(DumpArgs(StreamOf(dumpName), "--records", "all"));
        Assert.True(code == 0, error);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void TheDefaultDumpOfA64MiBStreamIsAFewHundredLines()
    {
        var (code, output, error) = QmigProcess.Run(DumpArgs("pc-64m-running/pc-64m-running.mig"));
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 100, 300);
    }

    /// <summary>Every record of the full listing is in the folded one: its own line, or counted in a run that starts at its offset or covers it.</summary>
    [Theory]
    [MemberData(nameof(Dumps))]
    public void FoldedRunsAccountForEveryPageRecord(string dumpName)
    {
        var stream = StreamOf(dumpName);
        var all = QmigProcess.Run(DumpArgs(stream, "--records", "all")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var folded = QmigProcess.Run(DumpArgs(stream)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var runs = folded.Select(line => RunLine().Match(line)).Where(m => m.Success).ToList();
        Assert.Equal(all.Length, folded.Length - runs.Count + runs.Sum(m => long.Parse(m.Groups["count"].Value.Replace(",", ""))));

        // A run's stream range starts at a record of the full listing and ends just before the next one.
        var offsets = all.Select(line => Convert.ToInt64(line[..10], 16)).ToArray();
        foreach (var run in runs)
        {
            var start = Convert.ToInt64(run.Groups["start"].Value, 16);
            var end = Convert.ToInt64(run.Groups["end"].Value, 16);
            var first = Array.IndexOf(offsets, start);
            Assert.True(first >= 0, $"no record at 0x{start:x}: {run.Value}");
            var count = int.Parse(run.Groups["count"].Value.Replace(",", ""));
            var next = first + count < offsets.Length ? offsets[first + count] : end + 1;
            Assert.Equal(next, end + 1);
            Assert.All(all[first..(first + count)], line => Assert.Contains(run.Groups["kind"].Value, FlagsOf().Match(line).Groups[1].Value.Split(',')));
        }
    }

    [GeneratedRegex(@"RAM ×(?<count>[0-9,]+) (?<kind>\S+) \S+ 0x[0-9a-f]+–0x[0-9a-f]+ \(pages \d+\.\.\d+(, not consecutive)?\) stream 0x(?<start>[0-9a-f]+)–0x(?<end>[0-9a-f]+)")]
    private static partial Regex RunLine();

    [GeneratedRegex(@"flags=\[([^\]]*)\]")]
    private static partial Regex FlagsOf();
}
