using Qmig.Linux.Pages;
using Qmig.Linux.Machines;
using State = Qmig.Linux.Machines.PageMachine.State;
using Trigger = Qmig.Linux.Machines.PageMachine.Trigger;

namespace Qmig.Linux.Tests;

public class PageStateArrayTests
{
    [Fact]
    public void EveryPageStartsMissingAndFollowsTheTable()
    {
        var pages = new PageStateArray(100);
        Assert.All(Enumerable.Range(0, 100), p => Assert.Equal(State.Missing, pages.Get(p)));

        Assert.Equal(new PageTransitionResult(true, State.Missing, State.Requested, Trigger.Fault), pages.TryApply(7, Trigger.Fault));
        Assert.Equal(new PageTransitionResult(false, State.Requested, State.Requested, Trigger.Fault), pages.TryApply(7, Trigger.Fault));
        Assert.Equal(new PageTransitionResult(false, State.Requested, State.Requested, Trigger.Discard), pages.TryApply(7, Trigger.Discard));
        Assert.Equal(new PageTransitionResult(true, State.Requested, State.Received, Trigger.Place), pages.TryApply(7, Trigger.Place));
        Assert.Equal(new PageTransitionResult(false, State.Received, State.Received, Trigger.Place), pages.TryApply(7, Trigger.Place));
        Assert.Equal(new PageTransitionResult(false, State.Received, State.Received, Trigger.Fault), pages.TryApply(7, Trigger.Fault));
        Assert.Equal(new PageTransitionResult(true, State.Received, State.Missing, Trigger.Discard), pages.TryApply(7, Trigger.Discard));
        Assert.Equal(new PageTransitionResult(false, State.Missing, State.Missing, Trigger.Discard), pages.TryApply(7, Trigger.Discard));
        Assert.Equal(new PageTransitionResult(true, State.Missing, State.Received, Trigger.Place), pages.TryApply(7, Trigger.Place));

        // Neighbours in the same word were not touched.
        Assert.Equal(State.Missing, pages.Get(6));
        Assert.Equal(State.Missing, pages.Get(8));
    }

    /// <summary>
    /// Every page position of a word (the first and last fields are where a shift-based decision goes wrong)
    /// × every state × every trigger, with every other page in a state that is not Missing so that the
    /// neighbouring bits are not zero: each move is what the generated machine says, and nothing else changes.
    /// </summary>
    [Theory]
    [InlineData(State.Requested)]
    [InlineData(State.Received)]
    public void EveryMoveInEveryFieldOfAWordIsTheGeneratedMachines(State neighbours)
    {
        for (int position = 0; position < 32; position++)
        {
            for (int s = 0; s < PageMachine.StateCount; s++)
            {
                for (int t = 0; t < PageMachine.TriggerCount; t++)
                {
                    var pages = new PageStateArray(64);
                    for (int other = 0; other < 64; other++)
                    {
                        MoveTo(pages, other, other == 32 + position ? State.Missing : neighbours);
                    }

                    int page = 32 + position;
                    MoveTo(pages, page, (State)s);
                    var expected = (State)s;
                    bool legal = PageMachine.TryFire(ref expected, (Trigger)t);

                    var result = pages.TryApply(page, (Trigger)t);

                    Assert.Equal(new PageTransitionResult(legal, (State)s, expected, (Trigger)t), result);
                    Assert.Equal(expected, pages.Get(page));
                    Assert.All(Enumerable.Range(0, 64).Where(p => p != page), p => Assert.Equal(neighbours, pages.Get(p)));
                }
            }
        }
    }

    [Fact]
    public void DiscardRangeMovesOnlyReceivedPagesAndReportsTheOthers()
    {
        var pages = new PageStateArray(200);
        for (int p = 10; p < 150; p++)
        {
            pages.TryApply(p, Trigger.Place);
        }

        pages.TryApply(160, Trigger.Fault);
        PageRangeDiscardResult result = pages.DiscardRange(5, 160);
        Assert.Equal(new PageRangeDiscardResult(Discarded: 140, LeftMissing: 19, LeftRequested: 1, FirstLeftPage: 5), result);
        Assert.Equal(new PageStateCounts(199, 1, 0), pages.CountByState());
        Assert.Equal(State.Requested, pages.Get(160));
    }

    [Fact]
    public void CountsIgnoreThePaddingOfTheLastWord()
    {
        var pages = new PageStateArray(33);
        Assert.Equal(new PageStateCounts(33, 0, 0), pages.CountByState());
        pages.TryApply(32, Trigger.Place);
        pages.TryApply(0, Trigger.Fault);
        Assert.Equal(new PageStateCounts(31, 1, 1), pages.CountByState());
    }

    [Fact]
    public void FindNextMissingWrapsAroundAndSkipsPadding()
    {
        var pages = new PageStateArray(70);
        for (int p = 0; p < 70; p++)
        {
            pages.TryApply(p, Trigger.Place);
        }

        Assert.Equal(-1, pages.FindNextMissing(0));
        pages.TryApply(3, Trigger.Discard);
        Assert.Equal(3, pages.FindNextMissing(0));
        Assert.Equal(3, pages.FindNextMissing(3));
        Assert.Equal(3, pages.FindNextMissing(4));   // wraps past page 69 (and the padding after it)
        Assert.Equal(3, pages.FindNextMissing(69));
        pages.TryApply(40, Trigger.Discard);
        Assert.Equal(40, pages.FindNextMissing(4));
        Assert.Equal(3, pages.FindNextMissing(41));
        Assert.Equal(3, pages.FindNextMissing(1000)); // out-of-range cursors restart at 0
        Assert.Equal(-1, new PageStateArray(0).FindNextMissing(0));
    }

    [Fact]
    public void ReceivedBitmapHasOneBitPerReceivedPage()
    {
        var pages = new PageStateArray(130);
        long[] received = [0, 31, 32, 63, 64, 100, 129];
        foreach (long p in received)
        {
            pages.TryApply(p, Trigger.Place);
        }

        pages.TryApply(5, Trigger.Fault);
        var bitmap = new ulong[3];
        pages.CopyReceivedBitmap(bitmap);
        for (int p = 0; p < 130; p++)
        {
            Assert.Equal(received.Contains(p), (bitmap[p / 64] & (1UL << (p % 64))) != 0);
        }
    }

    [Fact]
    public void OutOfRangeIndicesAreRejected()
    {
        var pages = new PageStateArray(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => pages.Get(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => pages.TryApply(-1, Trigger.Fault));
        Assert.Throws<ArgumentOutOfRangeException>(() => pages.DiscardRange(5, 6));
    }

    /// <summary>
    /// The array writes a move as its trigger's one target; a page machine where one trigger leads to two
    /// states must be caught, not written wrongly.
    /// </summary>
    [Fact]
    public void OneTargetPerTriggerIsCheckedOnTheTable()
    {
        const byte no = PageMachine.NoTransition;
        Assert.True(PageStateArray.HasOneTargetPerTrigger(PageMachine.Transitions, PageMachine.TriggerCount));
        // Two states × two triggers: trigger 0 leads to state 1 from state 0 and to state 0 from state 1.
        Assert.False(PageStateArray.HasOneTargetPerTrigger([1, no, 0, no], 2));
        Assert.True(PageStateArray.HasOneTargetPerTrigger([1, no, 1, 0], 2));
    }

    [Fact]
    public void TheStandInTableHasExactlyTheFourLegalMoves()
    {
        var legal = new List<(State, Trigger, State)>();
        for (int s = 0; s < PageMachine.StateCount; s++)
        {
            for (int t = 0; t < PageMachine.TriggerCount; t++)
            {
                var state = (State)s;
                if (PageMachine.TryFire(ref state, (Trigger)t))
                {
                    legal.Add(((State)s, (Trigger)t, state));
                }
            }
        }

        Assert.Equal(
            [
                (State.Missing, Trigger.Fault, State.Requested),
                (State.Missing, Trigger.Place, State.Received),
                (State.Requested, Trigger.Place, State.Received),
                (State.Received, Trigger.Discard, State.Missing),
            ],
            legal);
    }

    private static void MoveTo(PageStateArray pages, long page, State state)
    {
        var route = state switch
        {
            State.Missing => [],
            State.Requested => new[] { Trigger.Fault },
            State.Received => [Trigger.Place],
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no route from Missing"),
        };
        foreach (var trigger in route)
        {
            Assert.True(pages.TryApply(page, trigger).Applied, $"{trigger} on page {page}");
        }

        Assert.Equal(state, pages.Get(page));
    }
}
