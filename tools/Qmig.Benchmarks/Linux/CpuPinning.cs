using Qmig.Linux.Interop;

namespace Qmig.Benchmarks.Linux;

/// <summary>Pins the calling thread to one CPU, so the managed and the C measurements use the same placement.</summary>
internal static unsafe class CpuPinning
{
    public static void PinCurrentThread(int cpu)
    {
        ulong mask = 1UL << (cpu % Environment.ProcessorCount);
        if (Libc.SchedSetAffinity(0, sizeof(ulong), &mask) != 0)
        {
            throw new InvalidOperationException("sched_setaffinity failed");
        }
    }

    public static void UnpinCurrentThread()
    {
        ulong mask = (1UL << Environment.ProcessorCount) - 1;
        _ = Libc.SchedSetAffinity(0, sizeof(ulong), &mask);
    }
}
