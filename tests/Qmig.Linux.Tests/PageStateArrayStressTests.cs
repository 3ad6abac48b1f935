using System.Diagnostics;
using Qmig.Linux.Pages;
using Qmig.Linux.Machines;
using Xunit.Abstractions;
using State = Qmig.Linux.Machines.PageMachine.State;
using Trigger = Qmig.Linux.Machines.PageMachine.Trigger;

namespace Qmig.Linux.Tests;

/// <summary>
/// Several threads fire random triggers (legal and illegal) at a few hot words of one array for about
/// three seconds. Every accepted move is logged; afterwards each page's log, replayed from Missing,
/// must end in the page's actual state, and no logged or refused move may contradict the table.
/// </summary>
public class PageStateArrayStressTests(ITestOutputHelper output)
{
    private const int PageCount = 256;            // 8 words: every word is shared by all threads
    private const int LogCapacityPerThread = 2_000_000;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    [Fact]
    public void ConcurrentTransitionsReplayToTheFinalStateOfEveryPage()
    {
        var pages = new PageStateArray(PageCount);
        int threadCount = Math.Max(4, Environment.ProcessorCount * 2);
        var logs = new long[threadCount][];
        var logLengths = new int[threadCount];
        var refused = new long[threadCount];
        var violations = new List<string>();
        using var start = new Barrier(threadCount);
        long stopAt = 0;

        var threads = Enumerable.Range(0, threadCount).Select(index => new Thread(() =>
        {
            long[] log = logs[index] = new long[LogCapacityPerThread];
            var random = new Random(1000 + index);
            ReadOnlySpan<byte> table = PageMachine.Transitions;
            int length = 0;
            long refusals = 0;
            start.SignalAndWait();
            if (index == 0)
            {
                Volatile.Write(ref stopAt, Stopwatch.GetTimestamp() + (long)(Duration.TotalSeconds * Stopwatch.Frequency));
            }

            SpinWait.SpinUntil(() => Volatile.Read(ref stopAt) != 0);
            long deadline = Volatile.Read(ref stopAt);
            while (length < log.Length)
            {
                int page = random.Next(PageCount);
                var trigger = (Trigger)random.Next(PageMachine.TriggerCount);
                PageTransitionResult result = pages.TryApply(page, trigger);
                long now = Stopwatch.GetTimestamp();
                byte expected = table[((int)result.Previous * PageMachine.TriggerCount) + (int)trigger];
                if (result.Applied)
                {
                    if (expected != (byte)result.Current)
                    {
                        lock (violations) { violations.Add($"applied illegal {result} on page {page}"); }
                    }

                    // 40 bits of timestamp, 20 of page, 2 + 2 of states: one long per accepted move.
                    log[length++] = (now << 24) | ((long)page << 4) | ((long)result.Previous << 2) | (long)result.Current;
                }
                else
                {
                    refusals++;
                    if (expected != PageMachine.NoTransition || result.Current != result.Previous)
                    {
                        lock (violations) { violations.Add($"refused legal {result} on page {page}"); }
                    }
                }

                if ((length & 0xFF) == 0 && now > deadline)
                {
                    break;
                }

                Thread.SpinWait(random.Next(8));
            }

            logLengths[index] = length;
            refused[index] = refusals;
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));

        Assert.Empty(violations);
        long accepted = logLengths.Sum();
        output.WriteLine($"{threadCount} threads, {accepted:N0} accepted and {refused.Sum():N0} refused transitions");
        Assert.True(accepted > 100_000, "too few transitions to mean anything: " + accepted);

        // Per page, one queue of accepted moves per from-state, in timestamp order. The timestamp is read just
        // after the CAS, so a thread preempted in between logs its move late; the from→to chain is what fixes
        // the sequence. Hierholzer's walk rebuilds it: from Missing, follow the earliest unused move out of
        // the current state, splicing in any moves the greedy walk skipped. It uses every move iff the log
        // is a history a single page could have had, and every such history ends in the same state.
        var queues = new Queue<State>[PageCount, PageMachine.StateCount];
        foreach (long entry in logs.Zip(logLengths).SelectMany(l => l.First.Take(l.Second)).OrderBy(e => e >> 24))
        {
            int page = (int)((entry >> 4) & 0xFFFFF);
            var from = (State)((entry >> 2) & 3);
            (queues[page, (int)from] ??= new()).Enqueue((State)(entry & 3));
        }

        for (int page = 0; page < PageCount; page++)
        {
            long moves = Enumerable.Range(0, PageMachine.StateCount).Sum(s => (long)(queues[page, s]?.Count ?? 0));
            var walk = new Stack<State>([State.Missing]);
            var sequence = new List<State>();
            while (walk.Count > 0)
            {
                if (queues[page, (int)walk.Peek()] is { Count: > 0 } queue)
                {
                    walk.Push(queue.Dequeue());
                }
                else
                {
                    sequence.Add(walk.Pop());
                }
            }

            Assert.True(sequence.Count == moves + 1, $"page {page}: only {sequence.Count - 1} of {moves} accepted moves chain from Missing");
            // The walk pops the end of the history first.
            Assert.Equal(sequence[0], pages.Get(page));
        }
    }
}
