using System.Globalization;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// Per-round-trip latencies kept by a benchmark, summarised as p50/p99 when it finishes: BenchmarkDotNet
/// reports means over many operations, and the tail of single round trips is what the targets are about.
/// The summary goes to the benchmark's log and to a file in the temp directory for the host to collect.
/// </summary>
internal static class LatencySamples
{
    public static string ReportPath => Path.Combine(Path.GetTempPath(), "qmig-uffd-latency.txt");

    public static void Report(string name, Span<long> nanoseconds)
    {
        if (nanoseconds.IsEmpty)
        {
            return;
        }

        nanoseconds.Sort();
        long p50 = nanoseconds[nanoseconds.Length / 2];
        long p99 = nanoseconds[(int)(nanoseconds.Length * 99L / 100)];
        double mean = 0;
        foreach (long value in nanoseconds)
        {
            mean += value;
        }

        mean /= nanoseconds.Length;
        string line = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:O} {name}: n={nanoseconds.Length} p50={p50} ns p99={p99} ns mean={mean:F0} ns");
        Console.WriteLine("// " + line);
        File.AppendAllText(ReportPath, line + Environment.NewLine);
    }
}
