using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Qmig.Benchmarks.Linux;
using Qmig.Cli;
using Qmig.Postcopy.Destination;

namespace Qmig.Benchmarks.Postcopy;

/// <summary>
/// <c>dotnet run -c Release --project tools/Qmig.Benchmarks -- fault-latency [PAGES] [ROUNDS]</c>: issue
/// 5's latency target in one run. Measures the floor (a 16-byte request and a 4 KiB page back over
/// loopback TCP; a userfaultfd fault resolved by UFFDIO_COPY from another thread) and then
/// <see cref="PostcopyDestination"/> against <see cref="RespondingSource"/>, where one stand-in vCPU
/// faults on every page in turn; the floor again after it. Prints p50/p99 of each and the ratio of the
/// vCPU's stall p50 (from its access to its resumption, what the floor's two round trips add up to) to
/// the sum of the floor's p50s (averaged over before and after; target ≤ 1.2), and fault-to-placed
/// (request sent to page placed) against the same floor; then the median of each ratio over the rounds. Not BenchmarkDotNet: the quantity is a distribution of
/// single round trips, not a mean over many operations.
/// </summary>
internal static class FaultLatencyRun
{
    public static int Run(string[] args)
    {
        var pages = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 8192;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var stallRatios = new List<double>();
        var placedRatios = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            // The machine's wake-up latency drifts between states lasting seconds (the uffd floor alone
            // measured 41 and 72 us p50 in consecutive rounds), so the floor is measured on both sides of
            // qmig's run and averaged, and the summary is the median of the rounds' ratios.
            var (loopbackBefore, uffdBefore) = (Loopback((int)pages), UffdRoundTrip((int)pages));
            var (placed, stalls) = Destination(pages, out var requests);
            var (loopbackAfter, uffdAfter) = (Loopback((int)pages), UffdRoundTrip((int)pages));
            var floor = (loopbackBefore.P50 + uffdBefore.P50 + loopbackAfter.P50 + uffdAfter.P50) / 2;
            stallRatios.Add(stalls.P50 / floor);
            placedRatios.Add(placed.P50 / floor);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: loopback request/page p50 {loopbackBefore.P50:F1} / {loopbackAfter.P50:F1} us (before / after); uffd round trip p50 {uffdBefore.P50:F1} / {uffdAfter.P50:F1} us; " +
                $"floor {floor:F1} us. qmig over {requests} requests: vCPU stall p50 {stalls.P50:F1} us p99 {stalls.P99:F1} us ({stalls.Count} stalls), " +
                $"fault-to-placed p50 {placed.P50:F1} us p99 {placed.P99:F1} us; stall p50 / floor = {stalls.P50 / floor:F2}, fault-to-placed p50 / floor = {placed.P50 / floor:F2} (target <= 1.2)"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median over {rounds} rounds: stall p50 / floor = {Median(stallRatios):F2}, fault-to-placed p50 / floor = {Median(placedRatios):F2} (target <= 1.2)"));
        return 0;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static Percentiles Loopback(int count)
    {
        var benchmark = new LoopbackPageRequestBenchmarks();
        benchmark.Setup();
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            benchmark.RequestAndPage();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        benchmark.Cleanup();
        return Percentiles.Of(samples);
    }

    private static Percentiles UffdRoundTrip(int count)
    {
        var benchmark = new UffdRoundTripBenchmarks();
        benchmark.SetupManaged();
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var ticks = benchmark.Managed();
            if (ticks < 0)
            {
                throw new InvalidOperationException("the userfaultfd round trip read the wrong bytes");
            }

            samples[i] = ticks * 1e6 / Stopwatch.Frequency;
        }

        benchmark.CleanupManaged();
        return Percentiles.Of(samples);
    }

    private static (Percentiles Placed, Percentiles Stalls) Destination(long pages, out long requests)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var sourceSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        sourceSocket.Connect(listener.LocalEndpoint);
        using var connection = listener.AcceptSocket();
        connection.NoDelay = true;
        var source = new RespondingSource(sourceSocket, pages);
        var serving = Task.Run(source.Run);
        using var destination = new PostcopyDestination(new DestinationOptions { OnPostcopyRun = StandInGuest.OnPostcopyRun(TouchWorkload.Sequential, threads: 1) });
        destination.Receive(connection);
        connection.Shutdown(SocketShutdown.Both);
        serving.Wait();
        requests = source.Requests;
        if (destination.Stats.PostcopyBackgroundPages != 0)
        {
            throw new InvalidOperationException($"{destination.Stats.PostcopyBackgroundPages} pages arrived unrequested: the measurement is not one request per fault");
        }

        return (Percentiles.Of([.. destination.Stats.FaultToPlacedMicroseconds]), Percentiles.Of([.. destination.Stats.VcpuStallMicroseconds]));
    }

    private readonly record struct Percentiles(int Count, double P50, double P99)
    {
        public static Percentiles Of(double[] samples)
        {
            Array.Sort(samples);
            return new Percentiles(samples.Length, samples[samples.Length / 2], samples[(int)(samples.Length * 99L / 100)]);
        }
    }
}
