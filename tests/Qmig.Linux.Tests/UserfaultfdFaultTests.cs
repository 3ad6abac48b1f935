using Qmig.Linux.Interop;

namespace Qmig.Linux.Tests;

/// <summary>Real faults: threads block on missing pages and a handler thread resolves them.</summary>
public unsafe class UserfaultfdFaultTests
{
    private static readonly ulong PageSize = (ulong)Environment.SystemPageSize;

    [Fact]
    public void HandlerResolvesFaultsWithCopyAndZeroPageAndTheToucherReadsTheRightBytes()
    {
        const int pages = 16;
        using Userfaultfd uffd = Userfaultfd.Open(new UserfaultfdOptions { RequiredFeatures = UffdFeatures.ThreadId });
        using var mapping = new Mapping(pages);
        uffd.Register(mapping.Address, mapping.Length, UffdRegisterMode.Missing);
        using var server = new FaultServer(uffd, fault =>
        {
            Assert.Equal(UffdEventKind.PageFault, fault.Kind);
            int page = (int)((fault.Address - mapping.Address) / PageSize);
            // Even pages get data, odd pages a ranged zero fill: both must wake the toucher.
            UffdFillResult result = page % 2 == 0
                ? uffd.Copy(mapping.Page(page), Patterns.Page(page))
                : uffd.ZeroPage(mapping.Page(page), PageSize);
            Assert.Equal(UffdFillStatus.Completed, result.Status);
        });

        // Slot 3 of each page, so the fault address is not the page start (it is reported page-aligned).
        Toucher toucher = Toucher.Reading(Enumerable.Range(0, pages).Select(p => mapping.Page(p) + 24).ToArray());
        ulong[] values = toucher.Wait();

        for (int page = 0; page < pages; page++)
        {
            Assert.Equal(page % 2 == 0 ? Patterns.Word(page, 3) : 0UL, values[page]);
        }

        IReadOnlyList<UffdEvent> events = server.Events;
        Assert.Equal(pages, events.Count);
        Assert.All(events, e => Assert.Equal((uint)toucher.ThreadId, e.ThreadId));
        Assert.All(events, e => Assert.Equal(0UL, e.Address % PageSize));
        Assert.All(events, e => Assert.False(e.Flags.HasFlag(UffdPagefaultFlags.Write)));
    }

    [Fact]
    public void WriteFaultsAreFlaggedAsWrites()
    {
        using Userfaultfd uffd = Userfaultfd.Open();
        using var mapping = new Mapping(1);
        uffd.Register(mapping.Address, mapping.Length, UffdRegisterMode.Missing);
        using var server = new FaultServer(uffd, fault => uffd.ZeroPage(mapping.Address, PageSize));
        Toucher.Writing(mapping.Address + 8, 42).Wait();
        Assert.True(server.Events.Single().Flags.HasFlag(UffdPagefaultFlags.Write));
        Assert.Equal(42UL, FaultingMemory.ReadUInt64(mapping.Address + 8));
    }

    [Fact]
    public void PlacingAPageTwiceReportsAlreadyPresentAndKeepsTheFirstBytes()
    {
        using Userfaultfd uffd = Userfaultfd.Open();
        using var mapping = new Mapping(4);
        uffd.Register(mapping.Address, mapping.Length, UffdRegisterMode.Missing);

        Assert.Equal(new UffdFillResult(UffdFillStatus.Completed, PageSize), uffd.Copy(mapping.Page(1), Patterns.Page(1, tag: 1)));
        Assert.Equal(new UffdFillResult(UffdFillStatus.AlreadyPresent, 0), uffd.Copy(mapping.Page(1), Patterns.Page(1, tag: 2)));
        Assert.Equal(new UffdFillResult(UffdFillStatus.AlreadyPresent, 0), uffd.ZeroPage(mapping.Page(1), PageSize));

        // A four-page copy that meets the present page 1 stops there: the kernel reports page 0 done (EAGAIN + count).
        byte[] run = [.. Patterns.Page(0, 3), .. Patterns.Page(1, 3), .. Patterns.Page(2, 3), .. Patterns.Page(3, 3)];
        fixed (byte* source = run)
        {
            Assert.Equal(new UffdFillResult(UffdFillStatus.Partial, PageSize), uffd.Copy(mapping.Page(0), (ulong)source, 4 * PageSize));
            // The idempotent loop skips the present page and fills the rest.
            UffdPlacement placement = uffd.CopyIdempotent(mapping.Page(0), (ulong)source, 4 * PageSize, PageSize);
            Assert.Equal(new UffdPlacement(2 * PageSize, 2 * PageSize, 0), placement);
        }

        Assert.Equal(Patterns.Word(0, 5, 3), FaultingMemory.ReadUInt64(mapping.Page(0) + 40));
        Assert.Equal(Patterns.Word(1, 5, 1), FaultingMemory.ReadUInt64(mapping.Page(1) + 40));
        Assert.Equal(Patterns.Word(2, 5, 3), FaultingMemory.ReadUInt64(mapping.Page(2) + 40));
        Assert.Equal(Patterns.Word(3, 5, 3), FaultingMemory.ReadUInt64(mapping.Page(3) + 40));
    }

    [Fact]
    public void ADontWakeCopyLeavesTheToucherBlockedUntilWake()
    {
        using Userfaultfd uffd = Userfaultfd.Open();
        using var mapping = new Mapping(1);
        uffd.Register(mapping.Address, mapping.Length, UffdRegisterMode.Missing);
        using var server = new FaultServer(uffd, _ => { });
        Toucher toucher = Toucher.Reading(mapping.Address);
        server.WaitForEvents(1);

        Assert.Equal(UffdFillStatus.Completed, uffd.Copy(mapping.Address, Patterns.Page(0), wake: false).Status);
        Assert.False(toucher.Join(TimeSpan.FromMilliseconds(300)), "DONTWAKE copy woke the toucher");
        uffd.Wake(mapping.Address, PageSize);
        Assert.Equal(Patterns.Word(0, 0), toucher.Wait()[0]);
    }

    [Fact]
    public void UnregisteringARangeWakesOnlyTheThreadsBlockedInIt()
    {
        using Userfaultfd uffd = Userfaultfd.Open();
        using var mapping = new Mapping(2);
        ulong a = mapping.Page(0), b = mapping.Page(1);
        uffd.Register(a, PageSize, UffdRegisterMode.Missing);
        uffd.Register(b, PageSize, UffdRegisterMode.Missing);
        using var server = new FaultServer(uffd, _ => { });
        Toucher inA = Toucher.Reading(a);
        Toucher inB = Toucher.Reading(b);
        server.WaitForEvents(2);

        uffd.Unregister(a, PageSize);

        // The thread in A retries its access, which is now an ordinary fault: a fresh zero page.
        Assert.Equal(0UL, inA.Wait()[0]);
        // The thread in B must not have been woken by A's unregistration, nor have seen any bytes.
        Assert.False(inB.Join(TimeSpan.FromMilliseconds(300)), "unregistering A woke the thread blocked in B");
        Assert.Equal(UffdFillStatus.Completed, uffd.Copy(b, Patterns.Page(1)).Status);
        Assert.Equal(Patterns.Word(1, 0), inB.Wait()[0]);
        Assert.Equal(2, server.Events.Count);
    }

    [Fact]
    public void WriteProtectFaultIsReportedAndClearingTheProtectionWakesTheWriter()
    {
        using Userfaultfd uffd = Userfaultfd.Open();
        using var mapping = new Mapping(1);
        UffdIoctls ioctls = uffd.Register(mapping.Address, mapping.Length, UffdRegisterMode.Missing | UffdRegisterMode.WriteProtect);
        Assert.True(ioctls.HasFlag(UffdIoctls.WriteProtect), ioctls.ToString());
        uffd.Copy(mapping.Address, Patterns.Page(0));
        uffd.WriteProtect(mapping.Address, PageSize, protect: true);

        using var server = new FaultServer(uffd, fault => uffd.WriteProtect(mapping.Address, PageSize, protect: false));
        Toucher.Writing(mapping.Address + 16, 0xFEED).Wait();

        UffdEvent wp = server.Events.Single();
        Assert.True(wp.Flags.HasFlag(UffdPagefaultFlags.WriteProtect) && wp.Flags.HasFlag(UffdPagefaultFlags.Write), wp.ToString());
        Assert.Equal(0xFEEDUL, FaultingMemory.ReadUInt64(mapping.Address + 16));
        Assert.Equal(Patterns.Word(0, 0), FaultingMemory.ReadUInt64(mapping.Address));
    }

    [Fact]
    public void MinorFaultOnAMemfdIsResolvedWithContinue()
    {
        using Userfaultfd uffd = Userfaultfd.Open(new UserfaultfdOptions { RequiredFeatures = UffdFeatures.MinorShmem });
        int fd = Libc.MemfdCreate("qmig-minor-test", LinuxConstants.MFD_CLOEXEC);
        Assert.True(fd >= 0, "memfd_create failed");
        using var memfd = new SafeFileDescriptor(fd);
        Assert.Equal(0, Libc.FTruncate(memfd, (long)PageSize));
        // The page is in the page cache (written through the file) but not mapped in the registered view.
        byte[] page = Patterns.Page(7);
        fixed (byte* data = page)
        {
            Assert.Equal((nint)page.Length, Libc.PWrite(memfd, data, (nuint)page.Length, 0));
        }

        void* view = Libc.Mmap(null, (nuint)PageSize, LinuxConstants.PROT_READ | LinuxConstants.PROT_WRITE, LinuxConstants.MAP_SHARED, fd, 0);
        Assert.True(view != Libc.MapFailed);
        try
        {
            UffdIoctls ioctls = uffd.Register((ulong)view, PageSize, UffdRegisterMode.Minor);
            Assert.True(ioctls.HasFlag(UffdIoctls.Continue), ioctls.ToString());
            using var server = new FaultServer(uffd, fault => Assert.Equal(UffdFillStatus.Completed, uffd.Continue(fault.Address, PageSize).Status));
            Assert.Equal(Patterns.Word(7, 9), Toucher.Reading((ulong)view + 72).Wait()[0]);
            Assert.True(server.Events.Single().Flags.HasFlag(UffdPagefaultFlags.Minor));
            uffd.Unregister((ulong)view, PageSize);
        }
        finally
        {
            _ = Libc.Munmap(view, (nuint)PageSize);
        }
    }

    [Fact]
    public void NonCooperativeEventsReportRemoveRemapAndUnmap()
    {
        // Mappings first, userfaultfd last: disposal runs in reverse, and closing the userfaultfd first
        // drops the registrations, so a failing test cannot leave an munmap waiting for an event reader.
        var mapping = new Mapping(4);
        using var target = new Mapping(4);
        using Userfaultfd uffd = Userfaultfd.Open(new UserfaultfdOptions
        {
            RequiredFeatures = UffdFeatures.EventRemove | UffdFeatures.EventRemap | UffdFeatures.EventUnmap,
        });
        uffd.Register(mapping.Address, mapping.Length, UffdRegisterMode.Missing);
        uffd.Copy(mapping.Address, Patterns.Page(0));
        ulong from = mapping.Address, to = target.Address, length = mapping.Length;
        mapping.MovedTo(0);

        // Each of these blocks until its event is read, so they run on their own thread.
        var worker = new Thread(() =>
        {
            _ = Libc.Madvise((void*)from, (nuint)PageSize, LinuxConstants.MADV_DONTNEED);
            _ = Libc.Mremap((void*)from, (nuint)length, (nuint)length, LinuxConstants.MREMAP_MAYMOVE | LinuxConstants.MREMAP_FIXED, (void*)to);
            _ = Libc.Munmap((void*)(to + PageSize), (nuint)PageSize);
        }) { IsBackground = true };
        worker.Start();

        // remove; remap; the move's unmap of the old range; the explicit unmap of one moved page.
        var events = new List<UffdEvent>();
        var buffer = new UffdEvent[4];
        while (events.Count < 4)
        {
            int count = uffd.ReadEvents(buffer, 10_000);
            Assert.True(count > 0, "timed out waiting for non-cooperative events; got: " + string.Join(", ", events));
            events.AddRange(buffer.Take(count));
        }

        Assert.True(worker.Join(TimeSpan.FromSeconds(10)), "the worker is still blocked: " + string.Join(", ", events));
        Assert.Equal(UffdEventKind.Remove, events[0].Kind);
        Assert.Equal((from, from + PageSize), (events[0].RangeStart, events[0].RangeEnd));
        Assert.Equal(UffdEventKind.Remap, events[1].Kind);
        Assert.Equal((from, to, length), (events[1].RemapFrom, events[1].RemapTo, events[1].RemapLength));
        Assert.Equal(UffdEventKind.Unmap, events[2].Kind);
        Assert.Equal((from, from + length), (events[2].RangeStart, events[2].RangeEnd));
        Assert.Equal(UffdEventKind.Unmap, events[3].Kind);
        Assert.Equal((to + PageSize, to + (2 * PageSize)), (events[3].RangeStart, events[3].RangeEnd));
    }

    [Fact]
    public void ReadingEventsIsCancelledThroughTheTokenAndTimesOut()
    {
        using Userfaultfd uffd = Userfaultfd.Open();
        var buffer = new UffdEvent[1];
        Assert.Equal(0, uffd.ReadEvents(buffer, 50));

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => uffd.ReadEvents(buffer, -1, cancel.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));

        // The pending kick was drained: the next wait is a real wait again.
        Assert.Equal(0, uffd.ReadEvents(buffer, 50));
    }

    [Fact]
    public void DisposingWakesABlockedReader()
    {
        Userfaultfd uffd = Userfaultfd.Open();
        Exception? seen = null;
        var reader = new Thread(() =>
        {
            try
            {
                uffd.ReadEvents(new UffdEvent[1]);
            }
            catch (Exception error)
            {
                seen = error;
            }
        }) { IsBackground = true };
        reader.Start();
        Thread.Sleep(100);
        uffd.Dispose();
        Assert.True(reader.Join(TimeSpan.FromSeconds(5)), "the reader stayed in poll after Dispose");
        Assert.IsType<ObjectDisposedException>(seen);
    }
}
