using Qmig.Wire.Machines;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// The baseline: the same 2-bit packing and the same table, but every move under one lock, as the
/// design note's destination did. Only what the benchmarks call is here.
/// </summary>
public sealed class MutexPageStateArray(long pageCount)
{
    private readonly Lock _gate = new();
    private readonly ulong[] _words = new ulong[(pageCount + 31) / 32];

    public bool TryApply(long pageIndex, PageMachine.Trigger trigger)
    {
        int shift = (int)(pageIndex & 31) * 2;
        lock (_gate)
        {
            ref ulong word = ref _words[pageIndex >> 5];
            int from = (int)((word >> shift) & 3);
            byte to = PageMachine.Transitions[(from * PageMachine.TriggerCount) + (int)trigger];
            if (to == PageMachine.NoTransition)
            {
                return false;
            }

            word = (word & ~(3UL << shift)) | ((ulong)to << shift);
            return true;
        }
    }
}
