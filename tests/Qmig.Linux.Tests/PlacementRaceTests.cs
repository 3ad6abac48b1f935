using System.Collections.Concurrent;
using Qmig.Linux.Interop;
using Qmig.Linux.Memory;
using Qmig.Linux.Pages;
using Xunit.Abstractions;
using State = Qmig.Linux.Machines.PageMachine.State;

namespace Qmig.Linux.Tests;

/// <summary>
/// The order of placement (fill first, state after) under the races it is meant to survive: fault
/// threads checking state while pages are placed, and two placers placing the same page.
/// </summary>
public unsafe class PlacementRaceTests(ITestOutputHelper output)
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [Fact]
    public void ReceivedAlwaysMeansTheBytesAreThereWhileFaultsRequestsAndTwoPlacersRace()
    {
        const int pages = 2048;
        const int rounds = 12;
        using var memory = new GuestMemory(Userfaultfd.Open(), ownsUserfaultfd: true);
        // memfd-backed, so an observer can read the bytes with pread without faulting through the mapping.
        RamBlockMemory block = memory.AddBlock("pc.ram", (ulong)pages * (ulong)PageSize, new RamBlockOptions { MemfdBacked = true });
        var urgent = new ConcurrentQueue<long>();
        long requests = 0, raced = 0;
        using var server = new FaultServer(memory.Userfaultfd, fault =>
        {
            FaultOutcome outcome = memory.HandleFault(fault);
            switch (outcome.Disposition)
            {
                case FaultDisposition.RequestPage:
                    Interlocked.Increment(ref requests);
                    urgent.Enqueue((long)outcome.Offset / PageSize);
                    break;
                case FaultDisposition.AlreadyReceived:
                    Interlocked.Increment(ref raced);
                    break;
                case FaultDisposition.OutsideGuestMemory:
                    throw new InvalidOperationException("fault outside guest memory: " + fault);
            }
        });

        using var stop = new CancellationTokenSource();
        // Discards happen between rounds, never during placement (as in the protocol); the observer holds
        // the read side while it checks one page so that a between-rounds discard cannot pass under it.
        var phase = new ReaderWriterLockSlim();
        var violations = new ConcurrentQueue<string>();
        long observed = 0;
        var observer = new Thread(() =>
        {
            var random = new Random(7);
            ulong word;
            while (!stop.IsCancellationRequested)
            {
                int page = random.Next(pages);
                phase.EnterReadLock();
                try
                {
                    if (block.States.Get(page) == State.Received)
                    {
                        Assert.Equal(8, (int)Libc.PRead(block.Memfd!, &word, 8, (long)page * PageSize));
                        if (word != Patterns.Word(page, 0))
                        {
                            violations.Enqueue($"page {page} is received but holds 0x{word:X}");
                        }

                        Interlocked.Increment(ref observed);
                    }
                }
                finally
                {
                    phase.ExitReadLock();
                }
            }
        }) { IsBackground = true };
        observer.Start();

        PagePlacement total = default;
        for (int round = 0; round < rounds; round++)
        {
            total += PlaceAllWhileTouching(block, urgent, pages, round);
            Assert.Equal(new PageStateCounts(0, 0, pages), block.States.CountByState());
            phase.EnterWriteLock();
            try
            {
                Assert.Equal(pages, block.Discard(0, block.Length).Discarded);
                urgent.Clear();
            }
            finally
            {
                phase.ExitWriteLock();
            }
        }

        stop.Cancel();
        Assert.True(observer.Join(TimeSpan.FromSeconds(10)));
        server.ThrowIfFailed();
        output.WriteLine($"requests {requests}, faults that raced a placement {raced}, observed-received reads {observed}, placements {total}");
        Assert.Empty(violations);
        // Exactly one fill and one state move per page per round, however the placers interleaved.
        Assert.Equal((long)pages * rounds, total.PagesFilled);
        Assert.Equal((long)pages * rounds, total.PagesMarkedReceived);
        Assert.Equal(total.PagesAlreadyPresent, total.PagesAlreadyReceived);
        Assert.True(total.PagesAlreadyPresent > 0, "the two placers never raced on a page; the test did not test anything");
    }

    /// <summary>
    /// One round: two placers (one also serving requests) walk missing pages, from the same cursor in even
    /// rounds so they collide, while three touchers fault on random pages and check what they read.
    /// </summary>
    private static PagePlacement PlaceAllWhileTouching(RamBlockMemory block, ConcurrentQueue<long> urgent, int pages, int round)
    {
        var totals = new PagePlacement[2];
        Thread[] placers = [.. Enumerable.Range(0, 2).Select(index => new Thread(() =>
        {
            long cursor = round % 2 == 0 ? 0 : index * (pages / 2);
            var random = new Random((round * 2) + index);
            while (true)
            {
                long page;
                if (index == 0 && urgent.TryDequeue(out long requested))
                {
                    page = requested;
                }
                else
                {
                    page = block.States.FindNextMissing(cursor);
                    if (page < 0)
                    {
                        return;
                    }

                    cursor = page + 1 + random.Next(2);
                }

                totals[index] += block.PlacePage((ulong)(page * PageSize), Patterns.Page(page));
            }
        }) { IsBackground = true })];

        Toucher[] touchers = [.. Enumerable.Range(0, 3).Select(seed => Toucher.Start(() =>
        {
            var random = new Random((round * 10) + seed);
            return [.. Enumerable.Range(0, 200).Select(_ => random.Next(pages)).SelectMany(p => new[] { (ulong)p, FaultingMemory.ReadUInt64(block.BaseAddress + ((ulong)p * (ulong)PageSize) + 16) })];
        }, "toucher"))];
        Array.ForEach(placers, p => p.Start());
        foreach (Toucher toucher in touchers)
        {
            ulong[] pairs = toucher.Wait(TimeSpan.FromSeconds(30));
            for (int i = 0; i < pairs.Length; i += 2)
            {
                Assert.Equal(Patterns.Word((long)pairs[i], 2), pairs[i + 1]);
            }
        }

        Assert.True(placers.All(p => p.Join(TimeSpan.FromSeconds(30))), "placers did not finish");
        return totals[0] + totals[1];
    }

    [Fact]
    public void TwoPlacersOnOnePageFillItOnceMoveItsStateOnceAndBothReportWhatHappened()
    {
        const int pages = 256;
        using var memory = new GuestMemory(Userfaultfd.Open(), ownsUserfaultfd: true);
        RamBlockMemory block = memory.AddBlock("pc.ram", (ulong)pages * (ulong)PageSize);
        var results = new PagePlacement[2, pages];
        using var barrier = new Barrier(2);
        Thread[] placers = [.. Enumerable.Range(0, 2).Select(index => new Thread(() =>
        {
            for (int page = 0; page < pages; page++)
            {
                byte[] data = Patterns.Page(page, tag: (ulong)(0x10 + index));
                barrier.SignalAndWait();
                results[index, page] = block.PlacePage((ulong)(page * PageSize), data);
            }
        }) { IsBackground = true })];
        Array.ForEach(placers, p => p.Start());
        Assert.True(placers.All(p => p.Join(TimeSpan.FromSeconds(30))));

        int firstWonFill = 0, secondMovedState = 0;
        for (int page = 0; page < pages; page++)
        {
            PagePlacement a = results[0, page], b = results[1, page];
            Assert.Equal(1, a.PagesFilled + b.PagesFilled);
            Assert.Equal(1, a.PagesAlreadyPresent + b.PagesAlreadyPresent);
            Assert.Equal(1, a.PagesMarkedReceived + b.PagesMarkedReceived);
            Assert.Equal(1, a.PagesAlreadyReceived + b.PagesAlreadyReceived);
            Assert.Equal(State.Received, block.States.Get(page));
            ulong winnerTag = a.PagesFilled == 1 ? 0x10UL : 0x11UL;
            Assert.Equal(Patterns.Word(page, 5, winnerTag), FaultingMemory.ReadUInt64(block.BaseAddress + ((ulong)page * (ulong)PageSize) + 40));
            firstWonFill += (int)a.PagesFilled;
            // The placer that got EEXIST may still be the one whose CAS moved the state.
            secondMovedState += (int)(b.PagesMarkedReceived * a.PagesFilled);
        }

        output.WriteLine($"placer 0 won {firstWonFill}/{pages} fills; state moved by the EEXIST side {secondMovedState} times");
    }
}
