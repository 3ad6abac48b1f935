using Qmig.Linux.Memory;
using Qmig.Linux.Pages;
using State = Qmig.Linux.Machines.PageMachine.State;

namespace Qmig.Linux.Tests;

public class GuestMemoryTests
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [Fact]
    public void RunsAndRangedZeroPagesArePlacedInOneCallAndMarkedReceived()
    {
        using var memory = new GuestMemory(Userfaultfd.Open(), ownsUserfaultfd: true);
        RamBlockMemory block = memory.AddBlock("pc.ram", 64UL * (ulong)PageSize);
        byte[] run = Enumerable.Range(0, 16).SelectMany(p => Patterns.Page(p)).ToArray();

        Assert.Equal(new PagePlacement(16, 0, 16, 0, 0), block.PlaceRun(0, run));
        Assert.Equal(new PagePlacement(32, 0, 32, 0, 0), block.PlaceZero(16UL * (ulong)PageSize, 32UL * (ulong)PageSize));
        // Placing over present pages is idempotent and says so.
        Assert.Equal(new PagePlacement(0, 1, 0, 1, 0), block.PlacePage(3UL * (ulong)PageSize, Patterns.Page(3, tag: 9)));
        Assert.Equal(new PagePlacement(1, 1, 1, 1, 0), block.PlaceZero(47UL * (ulong)PageSize, 2UL * (ulong)PageSize));

        Assert.Equal(new PageStateCounts(15, 0, 49), block.States.CountByState());
        Assert.Equal(Patterns.Word(3, 11), FaultingMemory.ReadUInt64(block.BaseAddress + (3UL * (ulong)PageSize) + 88));
        Assert.Equal(0UL, FaultingMemory.ReadUInt64(block.BaseAddress + (20UL * (ulong)PageSize)));
        Assert.Throws<ArgumentOutOfRangeException>(() => block.PlaceZero(63UL * (ulong)PageSize, 2UL * (ulong)PageSize));
        Assert.Throws<ArgumentException>(() => block.PlacePage(0, new byte[10]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DiscardedPagesFaultAgain(bool memfd)
    {
        using var memory = new GuestMemory(Userfaultfd.Open(), ownsUserfaultfd: true);
        RamBlockMemory block = memory.AddBlock("pc.ram", 8UL * (ulong)PageSize, new RamBlockOptions { MemfdBacked = memfd });
        for (int p = 0; p < 8; p++)
        {
            block.PlacePage((ulong)(p * PageSize), Patterns.Page(p));
        }

        block.States.TryApply(7, Qmig.Linux.Machines.PageMachine.Trigger.Discard);
        PageRangeDiscardResult result = block.Discard(2UL * (ulong)PageSize, 6UL * (ulong)PageSize);
        Assert.Equal(new PageRangeDiscardResult(5, 1, 0, 7), result);
        Assert.Equal(new PageStateCounts(6, 0, 2), block.States.CountByState());

        // Page 4 is gone: touching it faults again, and a fresh placement is what the toucher sees.
        using var server = new FaultServer(memory.Userfaultfd, fault =>
        {
            FaultOutcome outcome = memory.HandleFault(fault);
            Assert.Equal(FaultDisposition.RequestPage, outcome.Disposition);
            outcome.Block!.PlacePage(outcome.Offset, Patterns.Page(100));
        });
        Assert.Equal(Patterns.Word(100, 1), Toucher.Reading(block.BaseAddress + (4UL * (ulong)PageSize) + 8).Wait()[0]);
        Assert.Equal(Patterns.Word(1, 1), FaultingMemory.ReadUInt64(block.BaseAddress + (ulong)PageSize + 8));
    }

    [Fact]
    public void FaultsAreRoutedToTheirBlock()
    {
        using var memory = new GuestMemory(Userfaultfd.Open(), ownsUserfaultfd: true);
        RamBlockMemory[] blocks = [memory.AddBlock("a", 4UL * (ulong)PageSize), memory.AddBlock("b", 8UL * (ulong)PageSize), memory.AddBlock("c", 2UL * (ulong)PageSize)];
        foreach (RamBlockMemory block in blocks)
        {
            Assert.Same(block, memory.FindBlock(block.BaseAddress));
            Assert.Same(block, memory.FindBlock(block.BaseAddress + block.Length - 1));
            Assert.Same(block, memory["abc"[Array.IndexOf(blocks, block)].ToString()]);
        }

        Assert.Null(memory.FindBlock(0));
        RamBlockMemory b = blocks[1];
        var fault = new UffdEvent(UffdEventKind.PageFault, 0, b.BaseAddress + (3UL * (ulong)PageSize) + 100, 0);
        Assert.Equal(new FaultOutcome(FaultDisposition.RequestPage, b, 3UL * (ulong)PageSize), memory.HandleFault(fault));
        Assert.Equal(new FaultOutcome(FaultDisposition.AlreadyRequested, b, 3UL * (ulong)PageSize), memory.HandleFault(fault));
        b.PlacePage(3UL * (ulong)PageSize, Patterns.Page(3));
        Assert.Equal(new FaultOutcome(FaultDisposition.AlreadyReceived, b, 3UL * (ulong)PageSize), memory.HandleFault(fault));
        Assert.Equal(FaultDisposition.OutsideGuestMemory, memory.HandleFault(new UffdEvent(UffdEventKind.PageFault, 0, 4096, 0)).Disposition);
    }
}
