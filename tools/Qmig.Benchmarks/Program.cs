using BenchmarkDotNet.Running;

namespace Qmig.Benchmarks;

/// <summary>
/// Runs whichever benchmarks the arguments select, e.g.
/// <c>dotnet run -c Release --project tools/Qmig.Benchmarks -- --filter '*MachineBenchmarks*' --job short</c>.
/// BenchmarkSwitcher finds every benchmark class in this assembly, so new ones need no change here.
/// <c>-- fault-latency [PAGES] [ROUNDS]</c> runs <see cref="Postcopy.FaultLatencyRun"/> instead: a
/// latency distribution against its floor, which BenchmarkDotNet's means do not give.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["fault-latency", .. var rest])
        {
            return Postcopy.FaultLatencyRun.Run(rest);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
