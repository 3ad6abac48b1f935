using Qmig.Linux.Memory;
using Qmig.Linux.Pages;
using Trigger = Qmig.Linux.Machines.PageMachine.Trigger;

namespace Qmig.Linux.Tests;

/// <summary>
/// A RAM block backed by 2 MiB huge pages (memfd with MFD_HUGETLB), as a QEMU guest on hugetlbfs has:
/// a fault anywhere in a huge page is one fault at its start, placement and discard are whole huge
/// pages, zeros are copied (no UFFDIO_ZEROPAGE on hugetlb), and precopy stores of 4 KiB target pages
/// go through the unregistered alias.
/// </summary>
public class HugePageBlockTests
{
    private const int HugePage = 2 << 20;
    private const int Target = 4096;

    [Fact]
    public void FaultsPlacementsAndDiscardsAreWholeHugePages()
    {
        HugePagePool.Ensure(4);
        using var memory = new GuestMemory(Userfaultfd.Open(), ownsUserfaultfd: true);
        var block = memory.AddBlock("pc.ram", 4UL * HugePage, new RamBlockOptions { MemfdBacked = true, HugeTlb = true, PageSize = HugePage });
        Assert.Equal(4, block.PageCount);
        Assert.Equal(0, (long)(block.SupportedIoctls & UffdIoctls.ZeroPage));

        var hugePage = new byte[HugePage];
        for (var target = 0; target < HugePage / Target; target++)
        {
            Patterns.Page(target).CopyTo(hugePage.AsSpan(target * Target));
        }

        var faults = new List<FaultOutcome>();
        using (var server = new FaultServer(memory.Userfaultfd, fault =>
        {
            var outcome = memory.HandleFault(fault);
            lock (faults)
            {
                faults.Add(outcome);
            }

            if (outcome.Disposition == FaultDisposition.RequestPage)
            {
                outcome.Block!.PlaceRun(outcome.Offset, hugePage);
            }
        }))
        {
            // A read 300 target pages into huge page 1 faults at the huge page's start; the whole of it arrives.
            var address = block.BaseAddress + HugePage + (300UL * Target) + 16;
            Assert.Equal(Patterns.Word(300, 2), Toucher.Reading(address).Wait()[0]);
            Assert.Equal(Patterns.Word(511, 0), FaultingMemory.ReadUInt64(block.BaseAddress + (2UL * HugePage) - Target));
        }

        var fault = Assert.Single(faults);
        Assert.Equal(new FaultOutcome(FaultDisposition.RequestPage, block, HugePage), fault);

        // Placing it again finds it present; zeros are copied in, a whole huge page at a time.
        Assert.Equal(1, block.PlacePage(HugePage, hugePage).PagesAlreadyPresent);
        Assert.Equal(new PagePlacement(1, 0, 1, 0, 0), block.PlaceZero(2UL * HugePage, HugePage));
        Assert.Equal(0UL, FaultingMemory.ReadUInt64(block.BaseAddress + (2UL * HugePage) + 4096));

        // A precopy store of one target page makes its huge page present: no fault, state received.
        block.StoreUnregistered((3UL * HugePage) + (7UL * Target), Patterns.Page(7, tag: 3));
        Assert.Equal(new PageStateCounts(1, 0, 3), block.States.CountByState());
        Assert.Equal(Patterns.Word(7, 5, tag: 3), FaultingMemory.ReadUInt64(block.BaseAddress + (3UL * HugePage) + (7UL * Target) + 40));

        // Discarding punches the huge page out of the memfd: the next access faults again.
        Assert.Equal(new PageRangeDiscardResult(1, 0, 0, -1), block.Discard(HugePage, HugePage));
        Assert.Equal(new PageStateCounts(2, 0, 2), block.States.CountByState());
        Assert.Throws<ArgumentOutOfRangeException>(() => block.Discard(Target, HugePage));
        using (new FaultServer(memory.Userfaultfd, fault =>
        {
            var outcome = memory.HandleFault(fault);
            outcome.Block!.PlaceZero(outcome.Offset, HugePage);
        }))
        {
            var toucher = Toucher.Reading(block.BaseAddress + HugePage + 8);
            Assert.Equal(0UL, toucher.Wait()[0]);
        }
    }

    [Fact]
    public void HugePagesNeedAMemfdAndAHugePageSize()
    {
        using var memory = new GuestMemory(Userfaultfd.Open(), ownsUserfaultfd: true);
        Assert.Throws<ArgumentException>(() => memory.AddBlock("a", 4UL * HugePage, new RamBlockOptions { HugeTlb = true, PageSize = HugePage }));
        Assert.Throws<ArgumentException>(() => memory.AddBlock("b", 4UL * HugePage, new RamBlockOptions { MemfdBacked = true, HugeTlb = true }));
    }
}
