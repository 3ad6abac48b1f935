using System.Diagnostics;
using Qmig.Linux;
using Qmig.Linux.Memory;
using Qmig.Postcopy.Destination;

namespace Qmig.Cli;

/// <summary>
/// <c>receive --touch</c>: stand-in vCPUs, threads that read guest memory the way a running guest
/// would, so that postcopy faults, requests and placements happen as they would under a real VMM.
/// <see cref="PostcopyDestination"/> starts them through its POSTCOPY_RUN hook and stops them when
/// the migration ends. Each read that stalls is added to <see cref="DestinationStats.VcpuStallMicroseconds"/>.
/// </summary>
internal sealed class StandInGuest : IDisposable
{
    /// <summary>
    /// A read of a mapped page takes well under a microsecond; one that takes longer than this
    /// waited for a userfault to be resolved, or for the kernel to map a page the memfd already
    /// held (the first touch of a precopy page), or lost its CPU to another thread.
    /// </summary>
    private static readonly long StallTicks = Stopwatch.Frequency / 100_000;

    private readonly RamBlockMemory[] _blocks;
    private readonly TouchWorkload _workload;
    private readonly int _threadCount;
    private readonly DestinationStats _stats;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Thread> _threads = [];

    private StandInGuest(IReadOnlyList<RamBlockMemory> blocks, TouchWorkload workload, int threads, DestinationStats stats)
    {
        _blocks = [.. blocks];
        _workload = workload;
        _threadCount = Math.Max(1, threads);
        _stats = stats;
    }

    /// <summary>
    /// The POSTCOPY_RUN hook (<see cref="DestinationOptions.OnPostcopyRun"/>) that starts
    /// <paramref name="threads"/> vCPUs running <paramref name="workload"/>; null for <see cref="TouchWorkload.None"/>.
    /// </summary>
    public static Func<PostcopyRun, IDisposable?>? OnPostcopyRun(TouchWorkload workload, int threads = 2, int seed = 1) =>
        workload == TouchWorkload.None ? null : run => Start(run.Blocks, workload, threads, seed, run.Stats);

    /// <summary>Starts <paramref name="threads"/> vCPUs on <paramref name="blocks"/>; none for <see cref="TouchWorkload.None"/>.</summary>
    public static StandInGuest Start(IReadOnlyList<RamBlockMemory> blocks, TouchWorkload workload, int threads, int seed, DestinationStats stats)
    {
        var guest = new StandInGuest(blocks, workload, threads, stats);
        if (workload == TouchWorkload.None)
        {
            return guest;
        }

        for (var i = 0; i < guest._threadCount; i++)
        {
            var index = i;
            var thread = new Thread(() => guest.Touch(seed + index, index)) { IsBackground = true, Name = $"qmig vcpu {i}" };
            guest._threads.Add(thread);
            thread.Start();
        }

        return guest;
    }

    /// <summary>Stops the vCPUs and waits for them; one blocked on a missing page waits until it is placed or faulting stops.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _stop.Dispose();
    }

    private void Touch(int seed, int threadIndex)
    {
        var random = new Random(seed);
        var totalPages = _blocks.Sum(b => b.PageCount);
        // Sequential threads start at different places so that they fault on different pages.
        var cursor = totalPages * threadIndex / _threadCount;
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            var page = _workload == TouchWorkload.Random ? random.NextInt64(totalPages) : cursor++ % totalPages;
            foreach (var block in _blocks)
            {
                if (page < block.PageCount)
                {
                    // Native code reads the word: a managed thread parked in a userfault would stall the GC.
                    var start = Stopwatch.GetTimestamp();
                    _ = FaultingMemory.ReadUInt64(block.BaseAddress + ((ulong)page * (ulong)block.PageSize));
                    var took = Stopwatch.GetTimestamp() - start;
                    if (took > StallTicks)
                    {
                        lock (_stats.VcpuStallMicroseconds)
                        {
                            _stats.VcpuStallMicroseconds.Add(took * 1e6 / Stopwatch.Frequency);
                        }
                    }

                    break;
                }

                page -= block.PageCount;
            }
        }
    }
}
