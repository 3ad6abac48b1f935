using Qmig.Linux.Pages;
using Qmig.Linux.Machines;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// The baseline: the same 2-bit packing and the same decision (<see cref="PageStateArray.TryMoveField"/>),
/// but every move under one lock, as the design note's destination did, so the benchmark compares the
/// locking and nothing else. Only what the benchmarks call is here.
/// </summary>
public sealed class MutexPageStateArray(long pageCount)
{
    private readonly Lock _gate = new();
    private readonly ulong[] _words = new ulong[(pageCount + 31) / 32];

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool TryApply(long pageIndex, PageMachine.Trigger trigger)
    {
        int shift = (int)(pageIndex & 31) * 2;
        lock (_gate)
        {
            ref ulong word = ref _words[pageIndex >> 5];
            if (!PageStateArray.TryMoveField(word, shift, trigger, out ulong moved, out _, out _))
            {
                return false;
            }

            word = moved;
            return true;
        }
    }
}
