using System.Diagnostics;
using Qmig.Wire;
using Qmig.Wire.Analysis;
using Qmig.Wire.Machines;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Proxy;

/// <summary>
/// The figures behind <see cref="ProxyFigures"/>, moved by the decoders of every channel. Every
/// member is used under <see cref="Sync"/>, which a decoder holds for a whole chunk, so the
/// visitors' calls on the page path take no lock of their own.
/// </summary>
internal sealed class ProxyTally
{
    public readonly object Sync = new();
    public readonly long Start = Stopwatch.GetTimestamp();
    public readonly RamRoundCounter Rounds = new();
    public readonly Dictionary<string, long> Commands = new(StringComparer.Ordinal);
    public readonly List<string> DecodeErrors = [];
    public readonly List<double> Latencies = [];
    public readonly List<ProxyConnection> Connections = [];

    /// <summary>Requested pages not seen yet: (block index, byte offset) to the time the request passed.</summary>
    public readonly Dictionary<(int Block, ulong Offset), long> Pending = [];

    public PostcopyMachine.State PostcopyState = PostcopyMachine.Initial;
    public long NormalPages;
    public long ZeroPages;
    public long XbzrlePages;
    public long CompressedPages;
    public long PreemptPages;
    public long PostcopyPages;
    public long PageRequests;
    public long AnsweredRequests;
    public long AnsweredOnPreempt;
    public int Resumes;
    public bool Completed;

    public bool InPostcopy => PostcopyState is PostcopyMachine.State.Listening or PostcopyMachine.State.Running;

    /// <summary>Where the migration stands, for a message: the postcopy state, or the precopy round.</summary>
    public string Describe() => PostcopyState == PostcopyMachine.State.None
        ? $"precopy round {PrecopyRounds(endedOnly: false)}"
        : $"postcopy state {PostcopyMachine.GetQemuName(PostcopyState)}";

    public void OnPage(in RamRecord ram, RamBlock block, bool preempt, long timestamp)
    {
        if (ram.IsZero)
        {
            ZeroPages++;
        }
        else
        {
            NormalPages++;
        }

        if (preempt)
        {
            PreemptPages++;
        }

        if (InPostcopy)
        {
            PostcopyPages++;
        }

        if (Pending.Count != 0 && Pending.Remove((block.Index, ram.Offset), out var requested))
        {
            AnsweredRequests++;
            if (preempt)
            {
                AnsweredOnPreempt++;
            }

            Latencies.Add(Stopwatch.GetElapsedTime(requested, timestamp).TotalMicroseconds);
        }
    }

    public void OnRequest(in PageRequestChecker.PageRequest request, long timestamp)
    {
        PageRequests++;
        Pending.TryAdd((request.Block.Index, request.Start), timestamp);
    }

    public ProxyFigures Snapshot()
    {
        lock (Sync)
        {
            double? p50 = null, p99 = null, max = null;
            if (Latencies.Count > 0)
            {
                var sorted = Latencies.ToArray();
                Array.Sort(sorted);
                p50 = Percentile(sorted, 0.50);
                p99 = Percentile(sorted, 0.99);
                max = sorted[^1];
            }

            return new ProxyFigures
            {
                Seconds = Stopwatch.GetElapsedTime(Start).TotalSeconds,
                PostcopyState = PostcopyMachine.GetQemuName(PostcopyState),
                Rounds = PrecopyRounds(endedOnly: false),
                RoundsEnded = PrecopyRounds(endedOnly: true),
                Completed = Completed,
                NormalPages = NormalPages,
                ZeroPages = ZeroPages,
                XbzrlePages = XbzrlePages,
                CompressedPages = CompressedPages,
                PreemptPages = PreemptPages,
                PostcopyPages = PostcopyPages,
                Commands = new SortedDictionary<string, long>(Commands, StringComparer.Ordinal),
                PageRequests = PageRequests,
                AnsweredRequests = AnsweredRequests,
                AnsweredOnPreempt = AnsweredOnPreempt,
                PendingRequests = Pending.Count,
                LatencyP50 = p50,
                LatencyP99 = p99,
                LatencyMax = max,
                Resumes = Resumes,
                Connections = Connections.Select(c => c.Figures()).ToArray(),
                DecodeErrors = DecodeErrors.ToArray(),
            };
        }
    }

    /// <summary>RAM SECTION_PART bodies before POSTCOPY_RUN (those after it are postcopy's background pages).</summary>
    private int PrecopyRounds(bool endedOnly)
    {
        var rounds = 0;
        foreach (var round in Rounds.Rounds)
        {
            if (round.Kind == RamRoundKind.Iteration && !round.Postcopy && (!endedOnly || round.EndsAtEos))
            {
                rounds++;
            }
        }

        return rounds;
    }

    /// <summary>The nearest-rank percentile of sorted samples.</summary>
    private static double Percentile(double[] sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
}
