using BenchmarkDotNet.Running;

namespace Qmig.Benchmarks;

/// <summary>
/// Runs whichever benchmarks the arguments select, e.g.
/// <c>dotnet run -c Release --project tools/Qmig.Benchmarks -- --filter '*MachineBenchmarks*' --job short</c>.
/// BenchmarkSwitcher finds every benchmark class in this assembly, so new ones need no change here.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
