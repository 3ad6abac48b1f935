using BenchmarkDotNet.Attributes;
using Qmig.Linux.Pages;
using Qmig.Linux.Machines;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// Lock-free <see cref="PageStateArray"/> against the same array under a lock, on a few thousand hot pages:
/// one thread cycling every page through fault, place, discard; and a receiver (place + discard) while a
/// requester thread on the other CPU keeps firing fault at the same pages. Results are per transition.
/// Two more rows measure the ceiling of the one-thread ratio in the same run: one bare compare-and-swap
/// per move (the least any CAS-based array can cost) against one empty enter and exit of the lock.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class PageStateArrayBenchmarks
{
    private const int HotPages = 4096;
    private const int OneThreadOps = HotPages * 3;
    private const int ReceiverOps = HotPages * 2;

    private PageStateArray _lockFree = null!;
    private MutexPageStateArray _mutex = null!;
    private readonly Lock _emptyGate = new();
    private readonly ulong[] _bareWords = new ulong[HotPages / 32];
    private Thread? _requester;
    private volatile bool _running;
    [ThreadStatic]
    private static bool t_pinned;

    [GlobalSetup]
    public void Setup()
    {
        _lockFree = new PageStateArray(HotPages);
        _mutex = new MutexPageStateArray(HotPages);
    }

    [GlobalSetup(Target = nameof(LockFreeReceiverWithRequester))]
    public void SetupLockFreeContention()
    {
        Setup();
        StartRequester(page => _lockFree.TryApply(page, PageMachine.Trigger.Fault).Applied);
    }

    [GlobalSetup(Target = nameof(MutexReceiverWithRequester))]
    public void SetupMutexContention()
    {
        Setup();
        StartRequester(page => _mutex.TryApply(page, PageMachine.Trigger.Fault));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _running = false;
        _requester?.Join();
        _requester = null;
        CpuPinning.UnpinCurrentThread();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OneThreadOps)]
    public int MutexOneThread()
    {
        int applied = 0;
        for (int page = 0; page < HotPages; page++)
        {
            applied += _mutex.TryApply(page, PageMachine.Trigger.Fault) ? 1 : 0;
            applied += _mutex.TryApply(page, PageMachine.Trigger.Place) ? 1 : 0;
            applied += _mutex.TryApply(page, PageMachine.Trigger.Discard) ? 1 : 0;
        }

        return applied;
    }

    [Benchmark(OperationsPerInvoke = OneThreadOps)]
    public int LockFreeOneThread()
    {
        int applied = 0;
        for (int page = 0; page < HotPages; page++)
        {
            applied += _lockFree.TryApply(page, PageMachine.Trigger.Fault).Applied ? 1 : 0;
            applied += _lockFree.TryApply(page, PageMachine.Trigger.Place).Applied ? 1 : 0;
            applied += _lockFree.TryApply(page, PageMachine.Trigger.Discard).Applied ? 1 : 0;
        }

        return applied;
    }

    /// <summary>One compare-and-swap per move and nothing else: no table, no decision.</summary>
    [Benchmark(OperationsPerInvoke = OneThreadOps)]
    public ulong CeilingBareCasOneThread()
    {
        ulong last = 0;
        for (int page = 0; page < HotPages; page++)
        {
            ref ulong word = ref _bareWords[page >> 5];
            for (int move = 0; move < 3; move++)
            {
                ulong observed = Volatile.Read(ref word);
                last = Interlocked.CompareExchange(ref word, observed + 1, observed);
            }
        }

        return last;
    }

    /// <summary>One enter and exit of the baseline's lock per move, with nothing done inside.</summary>
    [Benchmark(OperationsPerInvoke = OneThreadOps)]
    public int CeilingEmptyLockOneThread()
    {
        int entered = 0;
        for (int page = 0; page < HotPages; page++)
        {
            for (int move = 0; move < 3; move++)
            {
                lock (_emptyGate)
                {
                    entered++;
                }
            }
        }

        return entered;
    }

    [Benchmark(OperationsPerInvoke = ReceiverOps)]
    public int MutexReceiverWithRequester()
    {
        PinReceiver();
        int applied = 0;
        for (int page = 0; page < HotPages; page++)
        {
            applied += _mutex.TryApply(page, PageMachine.Trigger.Place) ? 1 : 0;
            applied += _mutex.TryApply(page, PageMachine.Trigger.Discard) ? 1 : 0;
        }

        return applied;
    }

    [Benchmark(OperationsPerInvoke = ReceiverOps)]
    public int LockFreeReceiverWithRequester()
    {
        PinReceiver();
        int applied = 0;
        for (int page = 0; page < HotPages; page++)
        {
            applied += _lockFree.TryApply(page, PageMachine.Trigger.Place).Applied ? 1 : 0;
            applied += _lockFree.TryApply(page, PageMachine.Trigger.Discard).Applied ? 1 : 0;
        }

        return applied;
    }

    private static void PinReceiver()
    {
        if (!t_pinned)
        {
            CpuPinning.PinCurrentThread(0);
            t_pinned = true;
        }
    }

    private void StartRequester(Func<int, bool> fault)
    {
        _running = true;
        _requester = new Thread(() =>
        {
            CpuPinning.PinCurrentThread(1);
            while (_running)
            {
                for (int page = 0; page < HotPages; page++)
                {
                    fault(page);
                }
            }
        }) { IsBackground = true, Name = "requester" };
        _requester.Start();
    }
}
