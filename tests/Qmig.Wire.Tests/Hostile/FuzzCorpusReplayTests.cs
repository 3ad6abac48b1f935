using System.Buffers;
using System.Diagnostics;
using Qmig.Fuzz;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>
/// Replays the saved fuzz corpus (tests/Qmig.Fuzz/corpus: seeds, afl's final queue, and the inputs
/// that crashed or hung the readers before their fixes) through every harness: every file,
/// whatever it was found for, must end in Done, NeedMoreData or InvalidData with the harness's
/// checks holding, and quickly. No afl needed.
/// </summary>
public class FuzzCorpusReplayTests(ITestOutputHelper output)
{
    /// <summary>Far above the slowest corpus file (milliseconds), far below afl's 5 s hang timeout.</summary>
    private static readonly TimeSpan PerFile = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData("stream")]
    [InlineData("return-path")]
    public void EveryCorpusFileReadsCleanlyWithBothReaders(string corpus)
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fuzz-corpus", corpus));
        Assert.NotEmpty(files);
        var failures = new List<string>();
        var slowest = TimeSpan.Zero;
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var clock = Stopwatch.StartNew();
            try
            {
                Assert.True(Harnesses.Stream(bytes) is OperationStatus.Done or OperationStatus.NeedMoreData or OperationStatus.InvalidData);
                Assert.True(Harnesses.ReturnPath(bytes) is OperationStatus.Done or OperationStatus.NeedMoreData or OperationStatus.InvalidData);
                Assert.True(Harnesses.Snapshot(bytes) is OperationStatus.Done or OperationStatus.InvalidData);
            }
            catch (Exception e)
            {
                failures.Add($"{Path.GetFileName(file)}: {e.GetType().Name}: {e.Message}");
            }

            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            if (clock.Elapsed > PerFile)
            {
                failures.Add($"{Path.GetFileName(file)}: {clock.Elapsed.TotalMilliseconds:F0} ms");
            }
        }

        output.WriteLine($"{files.Length} {corpus} files replayed, slowest {slowest.TotalMilliseconds:F1} ms");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
