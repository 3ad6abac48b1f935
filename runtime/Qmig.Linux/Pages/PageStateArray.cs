using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Qmig.Linux.Machines;

namespace Qmig.Linux.Pages;

/// <summary>
/// The destination's per-page state (missing / requested / received), 2 bits per page packed 32 to a
/// 64-bit word, changed only along the moves of the generated page machine and only by compare-and-swap:
/// no lock, no system call. The design note kept this under a mutex; here the receiving thread, the
/// fault thread and the background sender update it concurrently.
/// </summary>
/// <remarks>
/// Every word changes only through a CAS whose new value differs from the value it read in the fields
/// being moved, each along a legal edge from the value read. So every successful CAS is exactly a legal
/// transition applied to the state it was decided on; a failed CAS means some page of that word moved
/// (perhaps ours), and the move is decided again from the fresh value. A move the table refuses is
/// returned as refused and never written.
/// </remarks>
public sealed class PageStateArray
{
    private const int BitsPerPage = 2;
    private const int PagesPerWord = 64 / BitsPerPage;
    private const int PageInWordMask = PagesPerWord - 1;
    private const int WordShift = 5;
    private const ulong FieldMask = 0b11;
    /// <summary>The low bit of every 2-bit field.</summary>
    private const ulong LowBits = 0x5555_5555_5555_5555;

    /// <summary>
    /// The generated table re-laid for deciding a move in registers: bits 4t..4t+3 hold the states from which
    /// the page machine allows trigger t. Built from <see cref="PageMachine.Transitions"/> once; a static
    /// readonly word is folded into the code by the JIT, so no table is loaded on the way to the CAS.
    /// </summary>
    private static readonly ulong s_legalSources = BuildLegalSources();
    /// <summary>Bits 2t..2t+1: the state trigger t leads to, the same from every state that allows it.</summary>
    private static readonly ulong s_targets = BuildTargets();
    /// <summary>Whether every trigger leads to one state (what <see cref="s_targets"/> relies on).</summary>
    private static readonly bool s_oneTargetPerTrigger = HasOneTargetPerTrigger();

    private readonly ulong[] _words;
    /// <summary>Fields of the last word that hold real pages (the rest is padding, kept at 0 forever).</summary>
    private readonly ulong _lastWordFields;

    /// <summary>States for <paramref name="pageCount"/> pages, all missing.</summary>
    public PageStateArray(long pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        // The packing relies on the generated machine fitting 2 bits and on a zeroed word meaning "all
        // missing"; the decision words have room for 16 triggers.
        if (PageMachine.StateCount > 1 << BitsPerPage || PageMachine.TriggerCount > 16 || (byte)PageMachine.State.Missing != 0)
        {
            throw new InvalidOperationException("the page machine no longer fits a 2-bit field and 16 triggers with Missing = 0");
        }

        // A move is written as its trigger's target, decided apart from the source state's check.
        if (!s_oneTargetPerTrigger)
        {
            throw new InvalidOperationException("a trigger of the page machine now leads to different states from different states; PageStateArray writes each trigger's one target");
        }

        PageCount = pageCount;
        _words = new ulong[(pageCount + PagesPerWord - 1) / PagesPerWord];
        int tail = (int)(pageCount & PageInWordMask);
        _lastWordFields = tail == 0 ? LowBits : LowBits & ((1UL << (tail * BitsPerPage)) - 1);
    }

    /// <summary>How many pages the array tracks.</summary>
    public long PageCount { get; }

    /// <summary>The current state of page <paramref name="pageIndex"/> (a volatile read; another thread may move it right after).</summary>
    public PageMachine.State Get(long pageIndex)
    {
        CheckIndex(pageIndex);
        ulong word = Volatile.Read(ref _words[pageIndex >> WordShift]);
        return (PageMachine.State)((word >> Shift(pageIndex)) & FieldMask);
    }

    /// <summary>Fires <paramref name="trigger"/> on one page: applied if the page machine allows it from the page's current state, refused otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PageTransitionResult TryApply(long pageIndex, PageMachine.Trigger trigger)
    {
        CheckIndex(pageIndex);
        if ((uint)trigger >= PageMachine.TriggerCount)
        {
            ThrowTrigger(trigger);
        }

        // The index was just checked, so address the word without re-checking.
        ref ulong word = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_words), (nint)(pageIndex >> WordShift));
        int shift = Shift(pageIndex);
        ulong observed = Volatile.Read(ref word);
        // Invariant: the CAS replaces `observed` only if no page of this word moved since it was read, and the
        // replacement differs from it only in this page's field, moved along the table's edge from the state
        // read in `observed`. So a successful CAS applies exactly one legal transition; refusal writes nothing.
        while (true)
        {
            if (!TryMoveField(observed, shift, trigger, out ulong desired, out var from, out var to))
            {
                return new PageTransitionResult(false, from, from, trigger);
            }

            ulong actual = Interlocked.CompareExchange(ref word, desired, observed);
            if (actual == observed)
            {
                return new PageTransitionResult(true, from, to, trigger);
            }

            // Some page of this word moved, maybe ours: decide again from what is there now.
            observed = actual;
        }
    }

    /// <summary>
    /// Decides one move: <paramref name="moved"/> is <paramref name="word"/> with the field at
    /// <paramref name="shift"/> moved along the page machine's edge for <paramref name="trigger"/>; false,
    /// with <paramref name="moved"/> equal to <paramref name="word"/>, when the machine refuses it.
    /// Internal so that the benchmark's locked baseline decides exactly as this array does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryMoveField(ulong word, int shift, PageMachine.Trigger trigger, out ulong moved, out PageMachine.State from, out PageMachine.State to)
    {
        // The chain from reading a word to its CAS bounds a move's cost, so the new word is built from the
        // trigger's one target alone (a mask and an or), and the check that the page's state allows the
        // trigger runs beside it: this trigger's legal source states, repeated every 4 bits so that shifting
        // them by the word shifted down to this field picks the page's bit whatever fields lie above,
        // because a 64-bit shift counts modulo 64. Both are constants when the trigger is one.
        ulong sources = ((s_legalSources >> ((int)trigger << 2)) & 0xF) * 0x1111_1111_1111_1111;
        ulong target = (s_targets >> ((int)trigger << 1)) & FieldMask;
        ulong fromHere = word >> shift;
        from = (PageMachine.State)(fromHere & FieldMask);
        if (((sources >> (int)fromHere) & 1) == 0)
        {
            moved = word;
            to = from;
            return false;
        }

        moved = (word & ~(FieldMask << shift)) | (target << shift);
        to = (PageMachine.State)target;
        return true;
    }

    /// <summary>
    /// Fires Discard on every page of [first, first+count): received pages go back to missing, the others
    /// stay and are counted. One CAS per 32 pages.
    /// </summary>
    public PageRangeDiscardResult DiscardRange(long first, long count)
    {
        CheckRange(first, count);
        ReadOnlySpan<byte> table = PageMachine.Transitions;
        int discard = (int)PageMachine.Trigger.Discard;
        long discarded = 0, leftMissing = 0, leftRequested = 0, firstLeft = -1;
        long page = first;
        long end = first + count;
        while (page < end)
        {
            long wordIndex = page >> WordShift;
            int firstField = (int)(page & PageInWordMask);
            int fields = (int)Math.Min(PagesPerWord - firstField, end - page);
            ref ulong word = ref _words[wordIndex];
            ulong observed = Volatile.Read(ref word);
            long wordDiscarded, wordMissing, wordRequested, wordFirstLeft;
            // Invariant: as in TryApply, but for every field of the range inside this word at once: the CAS
            // succeeds only on the exact value the per-field decisions were made from, and each field it
            // changes moves along the table's Discard edge from that value; fields outside the range are copied.
            while (true)
            {
                ulong desired = observed;
                wordDiscarded = wordMissing = wordRequested = 0;
                wordFirstLeft = -1;
                for (int i = 0; i < fields; i++)
                {
                    int shift = (firstField + i) * BitsPerPage;
                    var from = (PageMachine.State)((observed >> shift) & FieldMask);
                    byte to = table[((int)from * PageMachine.TriggerCount) + discard];
                    if (to != PageMachine.NoTransition)
                    {
                        desired = (desired & ~(FieldMask << shift)) | ((ulong)to << shift);
                        wordDiscarded++;
                    }
                    else
                    {
                        if (wordFirstLeft < 0)
                        {
                            wordFirstLeft = page + i;
                        }

                        if (from == PageMachine.State.Requested)
                        {
                            wordRequested++;
                        }
                        else
                        {
                            wordMissing++;
                        }
                    }
                }

                if (desired == observed)
                {
                    break;
                }

                ulong actual = Interlocked.CompareExchange(ref word, desired, observed);
                if (actual == observed)
                {
                    break;
                }

                observed = actual;
            }

            discarded += wordDiscarded;
            leftMissing += wordMissing;
            leftRequested += wordRequested;
            if (firstLeft < 0)
            {
                firstLeft = wordFirstLeft;
            }

            page += fields;
        }

        return new PageRangeDiscardResult(discarded, leftMissing, leftRequested, firstLeft);
    }

    /// <summary>Counts pages per state, word by word with popcounts (each word read atomically, the whole not).</summary>
    public PageStateCounts CountByState()
    {
        long missing = 0, requested = 0, received = 0;
        for (int i = 0; i < _words.Length; i++)
        {
            ulong word = Volatile.Read(ref _words[i]);
            ulong fields = i == _words.Length - 1 ? _lastWordFields : LowBits;
            missing += BitOperations.PopCount(FieldsEqual(word, PageMachine.State.Missing) & fields);
            requested += BitOperations.PopCount(FieldsEqual(word, PageMachine.State.Requested) & fields);
            received += BitOperations.PopCount(FieldsEqual(word, PageMachine.State.Received) & fields);
        }

        return new PageStateCounts(missing, requested, received);
    }

    /// <summary>
    /// The first page at or after <paramref name="cursor"/>, wrapping past the end, that is missing; -1 if
    /// none is. For the background sender: the answer was true when read and may be stale by the time it
    /// is used, which costs at most a redundant send (the placer sees EEXIST or a refused Place).
    /// </summary>
    public long FindNextMissing(long cursor)
    {
        if (PageCount == 0)
        {
            return -1;
        }

        if ((ulong)cursor >= (ulong)PageCount)
        {
            cursor = 0;
        }

        long startWord = cursor >> WordShift;
        int startField = (int)(cursor & PageInWordMask);
        // Pass 0 scans from the cursor to the end, pass 1 from the start up to and including the cursor's word.
        for (long step = 0; step <= _words.Length; step++)
        {
            long wordIndex = (startWord + step) % _words.Length;
            ulong fields = wordIndex == _words.Length - 1 ? _lastWordFields : LowBits;
            if (step == 0)
            {
                fields &= ~((1UL << (startField * BitsPerPage)) - 1);
            }
            else if (step == _words.Length)
            {
                fields &= (1UL << (startField * BitsPerPage)) - 1;
            }

            ulong hits = FieldsEqual(Volatile.Read(ref _words[wordIndex]), PageMachine.State.Missing) & fields;
            if (hits != 0)
            {
                return (wordIndex << WordShift) + (BitOperations.TrailingZeroCount(hits) / BitsPerPage);
            }
        }

        return -1;
    }

    /// <summary>Sets bit i of <paramref name="destination"/> (little-endian words, as in the RECV_BITMAP blob) when page i is received.</summary>
    public void CopyReceivedBitmap(Span<ulong> destination)
    {
        long needed = (PageCount + 63) / 64;
        if (destination.Length < needed)
        {
            throw new ArgumentException("bitmap too small: " + needed + " words needed", nameof(destination));
        }

        destination[..(int)needed].Clear();
        for (int i = 0; i < _words.Length; i++)
        {
            ulong fields = i == _words.Length - 1 ? _lastWordFields : LowBits;
            ulong hits = FieldsEqual(Volatile.Read(ref _words[i]), PageMachine.State.Received) & fields;
            // Compress the low bit of each 2-bit field into 32 consecutive bits.
            ulong packed = 0;
            while (hits != 0)
            {
                int bit = BitOperations.TrailingZeroCount(hits);
                packed |= 1UL << (bit / BitsPerPage);
                hits &= hits - 1;
            }

            destination[i >> 1] |= packed << ((i & 1) * PagesPerWord);
        }
    }

    /// <summary>A word with the low bit of each field set where that field equals <paramref name="state"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong FieldsEqual(ulong word, PageMachine.State state)
    {
        ulong difference = word ^ ((ulong)state * LowBits);
        return ~(difference | (difference >> 1)) & LowBits;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Shift(long pageIndex) => (int)(pageIndex & PageInWordMask) * BitsPerPage;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckIndex(long pageIndex)
    {
        if ((ulong)pageIndex >= (ulong)PageCount)
        {
            ThrowIndex(pageIndex);
        }
    }

    private void CheckRange(long first, long count)
    {
        if (first < 0 || count < 0 || first > PageCount - count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"pages [{first}, {first}+{count}) outside [0, {PageCount})");
        }
    }

    private static ulong BuildLegalSources()
    {
        ulong sources = 0;
        ForEachLegalMove(PageMachine.Transitions, PageMachine.TriggerCount, (state, trigger, _) => sources |= 1UL << ((trigger * 4) + state));
        return sources;
    }

    private static ulong BuildTargets()
    {
        ulong targets = 0;
        ForEachLegalMove(PageMachine.Transitions, PageMachine.TriggerCount, (_, trigger, to) => targets |= (ulong)to << (trigger * 2));
        return targets;
    }

    private static bool HasOneTargetPerTrigger() => HasOneTargetPerTrigger(PageMachine.Transitions, PageMachine.TriggerCount);

    /// <summary>
    /// Whether, in a transition table laid out as the generated machines' (state × trigger, NoTransition
    /// where refused), every trigger leads to one state. Internal for the test that feeds it a table
    /// where this fails, which the real page machine cannot provide.
    /// </summary>
    internal static bool HasOneTargetPerTrigger(ReadOnlySpan<byte> table, int triggerCount)
    {
        var targets = new int[triggerCount];
        Array.Fill(targets, -1);
        bool one = true;
        ForEachLegalMove(table, triggerCount, (_, trigger, to) =>
        {
            one &= targets[trigger] < 0 || targets[trigger] == to;
            targets[trigger] = to;
        });
        return one;
    }

    private static void ForEachLegalMove(ReadOnlySpan<byte> table, int triggerCount, Action<int, int, int> move)
    {
        for (int state = 0; state < table.Length / triggerCount; state++)
        {
            for (int trigger = 0; trigger < triggerCount; trigger++)
            {
                byte to = table[(state * triggerCount) + trigger];
                if (to != PageMachine.NoTransition)
                {
                    move(state, trigger, to);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTrigger(PageMachine.Trigger trigger)
        => throw new ArgumentOutOfRangeException(nameof(trigger), $"trigger {(int)trigger} is not one of the page machine's {PageMachine.TriggerCount}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowIndex(long pageIndex)
        => throw new ArgumentOutOfRangeException(nameof(pageIndex), $"page {pageIndex} outside [0, {PageCount})");
}
