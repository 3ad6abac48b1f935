using System.Numerics;
using System.Runtime.InteropServices;
using Qmig.Linux.Interop;
using Qmig.Linux.Pages;
using Qmig.Linux.Machines;

namespace Qmig.Linux.Memory;

/// <summary>
/// One RAM block on the destination: a mapping registered with a userfaultfd in missing mode, the
/// page-state array that tracks it, and the placement operations that fill it.
/// </summary>
/// <remarks>
/// <para><b>Order of placement: the page is filled first, its state is moved to received after.</b>
/// "Received" is read by others as "the bytes are there": the fault thread wakes a faulting vCPU
/// instead of requesting the page, a recovery reports the page as held in RECV_BITMAP, the background
/// sender skips it. If the state moved first, each of them could act on a page that is still empty (and
/// if the fill then failed, a vCPU faulting on it would wait forever, because no request would be sent).
/// Filling first leaves only a harmless window: between the fill and the state move, a fault thread
/// that sees missing/requested sends a redundant request (the source skips or resends it, and the
/// second placement gets EEXIST). The faulting thread itself never waits on that window, because
/// UFFDIO_COPY wakes it as part of the fill. This is also QEMU's order (qemu_ufd_copy_ioctl copies, then
/// sets the receivedmap bit under its mutex).</para>
/// <para><b>Two placers racing on one page</b>: exactly one fill maps it; the other gets EEXIST and
/// reports the page as already present. Both then fire Place on the state; exactly one CAS applies it
/// (missing/requested → received) and the other is refused as already received. Either placer may be the
/// one that moves the state, which is why EEXIST still fires Place: the winner of the fill may not have
/// reached its state move yet, and the page is there.</para>
/// <para><b>Discard</b> runs in the DISCARD phase, before the listen thread starts placing pages; it is
/// not safe against concurrent placement of the same pages (nothing in QEMU's protocol allows that
/// either). It moves the state first (received → missing) and drops the memory after, so that
/// "received ⇒ present" holds throughout.</para>
/// <para><b>Touching the block from this process</b>: only through native code (<see cref="FaultingMemory"/>)
/// while pages may be missing. A managed thread parked in a userfault holds up every garbage collection,
/// and the threads that would resolve the fault may be waiting for that collection.</para>
/// </remarks>
public sealed unsafe class RamBlockMemory : IDisposable
{
    private readonly Userfaultfd _uffd;
    private readonly SafeFileDescriptor? _memfd;
    // A second mapping of the memfd, never registered with the userfaultfd: precopy stores and the
    // final read go through it with plain copies instead of a pwrite or pread per page.
    private readonly byte* _alias;
    private byte[]? _zeroPage;
    private bool _disposed;
    // The page size is a power of two: offsets become page indices by a shift instead of a 64-bit
    // division by a size known only at run time (five of them for every page placed).
    private readonly int _pageShift;

    private RamBlockMemory(Userfaultfd uffd, string name, ulong baseAddress, ulong length, int pageSize, SafeFileDescriptor? memfd, byte* alias, UffdIoctls ioctls)
    {
        _alias = alias;
        _uffd = uffd;
        Name = name;
        BaseAddress = baseAddress;
        Length = length;
        PageSize = pageSize;
        _pageShift = BitOperations.Log2((uint)pageSize);
        _memfd = memfd;
        SupportedIoctls = ioctls;
        States = new PageStateArray((long)(length / (ulong)pageSize));
    }

    /// <summary>The RAM block id as the migration stream names it, e.g. <c>pc.ram</c>.</summary>
    public string Name { get; }

    /// <summary>The host virtual address where the block is mapped; a fault address minus this is the offset in the block.</summary>
    public ulong BaseAddress { get; }

    /// <summary>The block size in bytes, a whole number of pages.</summary>
    public ulong Length { get; }

    /// <summary>The block's page size in bytes: the host page, or the huge-page size when backed by huge pages.</summary>
    public int PageSize { get; }

    /// <summary>How many pages the block holds (<see cref="Length"/> / <see cref="PageSize"/>).</summary>
    public long PageCount => States.PageCount;

    /// <summary>Each page's state (missing, requested, received), which placement and fault handling move.</summary>
    public PageStateArray States { get; }

    /// <summary>The requests the kernel supports on this block's range (from UFFDIO_REGISTER).</summary>
    public UffdIoctls SupportedIoctls { get; }

    /// <summary>The memfd behind the block, when <see cref="RamBlockOptions.MemfdBacked"/>.</summary>
    public SafeFileDescriptor? Memfd => _memfd;

    /// <summary>Maps <paramref name="length"/> bytes, registers them with <paramref name="uffd"/>, and starts with every page missing.</summary>
    public static RamBlockMemory Create(Userfaultfd uffd, string name, ulong length, RamBlockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uffd);
        options ??= new RamBlockOptions();
        int pageSize = options.PageSize;
        if (pageSize <= 0 || (pageSize & (pageSize - 1)) != 0 || pageSize % Environment.SystemPageSize != 0)
        {
            throw new ArgumentException("the page size is a power-of-two multiple of the system page size", nameof(options));
        }

        if (length == 0 || length % (ulong)pageSize != 0)
        {
            throw new ArgumentException("the length is a non-zero multiple of the page size", nameof(length));
        }

        if (options.HugeTlb && (!options.MemfdBacked || pageSize < (2 << 20)))
        {
            throw new ArgumentException("huge pages need a memfd-backed block whose page size is a huge page size (2 MiB or more)", nameof(options));
        }

        SafeFileDescriptor? memfd = null;
        void* address;
        if (options.MemfdBacked)
        {
            uint flags = LinuxConstants.MFD_CLOEXEC;
            if (options.HugeTlb)
            {
                flags |= LinuxConstants.MFD_HUGETLB | ((uint)BitOperations.Log2((uint)pageSize) << LinuxConstants.MFD_HUGE_SHIFT);
            }

            int fd = Libc.MemfdCreate("qmig:" + name, flags);
            if (fd < 0)
            {
                throw options.HugeTlb ? HugePageFailure("memfd_create(MFD_HUGETLB)", pageSize) : Failure("memfd_create", length);
            }

            memfd = new SafeFileDescriptor(fd);
            if (Libc.FTruncate(memfd, (long)length) != 0)
            {
                var error = Failure("ftruncate", length);
                memfd.Dispose();
                throw error;
            }

            address = Libc.Mmap(null, (nuint)length, LinuxConstants.PROT_READ | LinuxConstants.PROT_WRITE, LinuxConstants.MAP_SHARED, fd, 0);
        }
        else
        {
            address = Libc.Mmap(
                null,
                (nuint)length,
                LinuxConstants.PROT_READ | LinuxConstants.PROT_WRITE,
                LinuxConstants.MAP_PRIVATE | LinuxConstants.MAP_ANONYMOUS | LinuxConstants.MAP_NORESERVE,
                -1,
                0);
        }

        if (address == Libc.MapFailed)
        {
            var error = options.HugeTlb ? HugePageFailure("mmap", pageSize) : Failure("mmap", length);
            memfd?.Dispose();
            throw error;
        }

        void* alias = null;
        try
        {
            if (memfd is not null)
            {
                alias = Libc.Mmap(null, (nuint)length, LinuxConstants.PROT_READ | LinuxConstants.PROT_WRITE, LinuxConstants.MAP_SHARED, memfd.DangerousGetHandle().ToInt32(), 0);
                if (alias == Libc.MapFailed)
                {
                    alias = null;
                    throw Failure("mmap (unregistered alias)", length);
                }
            }

            if (!options.MemfdBacked)
            {
                // As QEMU does before discarding: a transparent huge page would make a 4 KiB discard or
                // placement act on 2 MiB. Advisory, so a kernel without THP may refuse it harmlessly.
                _ = Libc.Madvise(address, (nuint)length, LinuxConstants.MADV_NOHUGEPAGE);
            }

            UffdIoctls ioctls = uffd.Register((ulong)address, length, options.RegisterMode);
            if ((options.RegisterMode & UffdRegisterMode.Missing) != 0 && (ioctls & UffdIoctls.Copy) == 0)
            {
                throw new UserfaultfdException("UFFDIO_REGISTER", Errno.EOPNOTSUPP, $"RAM block '{name}': the kernel does not support UFFDIO_COPY on this kind of memory (ioctls {ioctls}).");
            }

            return new RamBlockMemory(uffd, name, (ulong)address, length, pageSize, memfd, (byte*)alias, ioctls);
        }
        catch
        {
            _ = Libc.Munmap(address, (nuint)length);
            if (alias is not null)
            {
                _ = Libc.Munmap(alias, (nuint)length);
            }

            memfd?.Dispose();
            throw;
        }
    }

    /// <summary>True when <paramref name="address"/> (a host virtual address) falls inside the block.</summary>
    public bool Contains(ulong address) => address - BaseAddress < Length;

    /// <summary>
    /// Places one page: fills it with <paramref name="data"/> (exactly one page) and wakes whoever faulted
    /// on it, then moves its state to received. See the remarks on the class for why in that order.
    /// </summary>
    public PagePlacement PlacePage(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length != PageSize)
        {
            throw new ArgumentException($"a page is {PageSize} bytes, got {data.Length}", nameof(data));
        }

        return PlaceRun(offset, data);
    }

    /// <summary>
    /// Places a run of contiguous pages with one UFFDIO_COPY (the kernel maps them one by one, but the
    /// system call, the mmap lock and the wake are paid once per run: use runs of 64 KiB or more).
    /// </summary>
    public PagePlacement PlaceRun(ulong offset, ReadOnlySpan<byte> data)
    {
        ulong length = (ulong)data.Length;
        CheckRange(offset, length);
        UffdPlacement filled;
        fixed (byte* source = data)
        {
            filled = _uffd.CopyIdempotent(BaseAddress + offset, (ulong)source, length, (ulong)PageSize);
        }

        return MarkReceived(offset, length, filled);
    }

    /// <summary>
    /// Places a run of zero pages with one UFFDIO_ZEROPAGE (private memory then shares the kernel's zero
    /// page until written). Falls back to copying zeros where the kernel lacks ZEROPAGE (hugetlbfs).
    /// </summary>
    public PagePlacement PlaceZero(ulong offset, ulong length)
    {
        CheckRange(offset, length);
        UffdPlacement filled;
        if ((SupportedIoctls & UffdIoctls.ZeroPage) != 0)
        {
            filled = _uffd.ZeroPageIdempotent(BaseAddress + offset, length, (ulong)PageSize);
        }
        else
        {
            byte[] zero = _zeroPage ??= GC.AllocateArray<byte>(PageSize, pinned: true);
            filled = default;
            fixed (byte* source = zero)
            {
                for (ulong page = 0; page < length; page += (ulong)PageSize)
                {
                    filled += _uffd.CopyIdempotent(BaseAddress + offset + page, (ulong)source, (ulong)PageSize, (ulong)PageSize);
                }
            }
        }

        return MarkReceived(offset, length, filled);
    }

    /// <summary>
    /// Stores precopy data through the memfd's unregistered second mapping: precopy sends a page
    /// again each time the guest dirties it, and a later copy must replace the earlier one, which
    /// UFFDIO_COPY cannot do (it refuses a present page with EEXIST). A page in the memfd's page cache
    /// is present to the mapping, so it does not fault; the page moves to received.
    /// </summary>
    /// <remarks>
    /// With huge pages a precopy store is one target page of a larger page. The first store into a
    /// huge page puts the whole huge page into the memfd's page cache, so from then on the registered
    /// mapping does not fault on any of it: the page counts as received ("received ⇒ present"), and
    /// the rest of its target pages follow in the same precopy pass. A huge page that is dirty at
    /// the end is discarded whole before postcopy (QEMU aligns discards to host pages).
    /// </remarks>
    public void StoreUnregistered(ulong offset, ReadOnlySpan<byte> data)
    {
        CheckBounds(offset, (ulong)data.Length);
        data.CopyTo(AliasOf(offset, data.Length));
        long first = PageIndex(offset);
        long end = PageIndex(offset + (ulong)data.Length + (ulong)PageSize - 1);
        for (long page = first; page < end; page++)
        {
            _ = States.TryApply(page, PageMachine.Trigger.Place);
        }
    }

    /// <summary>
    /// Reads block contents through the memfd without touching the registered mapping, so a missing
    /// page reads as zeros instead of faulting. Used once every page is received.
    /// </summary>
    public void ReadUnregistered(ulong offset, Span<byte> destination)
    {
        CheckBounds(offset, (ulong)destination.Length);
        AliasOf(offset, destination.Length).CopyTo(destination);
    }

    private Span<byte> AliasOf(ulong offset, int length)
    {
        if (_alias is null)
        {
            throw new InvalidOperationException($"RAM block '{Name}' is not memfd-backed");
        }

        return new Span<byte>(_alias + offset, length);
    }

    /// <summary>
    /// Unregisters the block from the userfaultfd while keeping it mapped: every thread blocked on a
    /// missing page is woken and reads zeros. Lets a failed migration stop its guest threads safely
    /// before the memory goes away.
    /// </summary>
    public void StopFaulting()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            _uffd.Unregister(BaseAddress, Length);
        }
        catch (ObjectDisposedException)
        {
            // Closing the userfaultfd already dropped the registration.
        }
    }

    /// <summary>
    /// Drops the pages of a range so the next access faults again, and moves received pages back to
    /// missing (state first, memory after: see the class remarks). Discard-phase only. If the userfaultfd
    /// negotiated EventRemove, the madvise blocks until the event reader has read the REMOVE event.
    /// </summary>
    public PageRangeDiscardResult Discard(ulong offset, ulong length)
    {
        CheckRange(offset, length);
        PageRangeDiscardResult result = States.DiscardRange(PageIndex(offset), PageIndex(length));
        // Shared memfd pages live in the page cache: MADV_DONTNEED would only unmap them and the next access
        // would map them back without a missing fault, so punch the hole with MADV_REMOVE instead.
        int advice = _memfd is null ? LinuxConstants.MADV_DONTNEED : LinuxConstants.MADV_REMOVE;
        if (Libc.Madvise((void*)(BaseAddress + offset), (nuint)length, advice) != 0)
        {
            throw Failure(_memfd is null ? "madvise(MADV_DONTNEED)" : "madvise(MADV_REMOVE)", length);
        }

        return result;
    }

    /// <summary>
    /// Decides what to do about a fault at <paramref name="address"/> (inside this block): missing →
    /// requested means "send a request"; already requested means "wait for the placement"; already
    /// received means the fault raced the placement, so the faulting thread is woken here (the page is
    /// there, because the state moves only after the fill).
    /// </summary>
    public FaultOutcome HandleFault(ulong address)
    {
        if (!Contains(address))
        {
            return new FaultOutcome(FaultDisposition.OutsideGuestMemory, null, 0);
        }

        ulong offset = (address - BaseAddress) & ~((ulong)PageSize - 1);
        PageTransitionResult transition = States.TryApply(PageIndex(offset), PageMachine.Trigger.Fault);
        if (transition.Applied)
        {
            return new FaultOutcome(FaultDisposition.RequestPage, this, offset);
        }

        if (transition.Previous == PageMachine.State.Received)
        {
            _uffd.Wake(BaseAddress + offset, (ulong)PageSize);
            return new FaultOutcome(FaultDisposition.AlreadyReceived, this, offset);
        }

        return new FaultOutcome(FaultDisposition.AlreadyRequested, this, offset);
    }

    /// <summary>Unregisters and unmaps the block (unregistering first wakes any thread still blocked in it).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _uffd.Unregister(BaseAddress, Length);
        }
        catch (ObjectDisposedException)
        {
            // The userfaultfd went first; closing it already dropped the registration.
        }

        _ = Libc.Munmap((void*)BaseAddress, (nuint)Length);
        if (_alias is not null)
        {
            _ = Libc.Munmap(_alias, (nuint)Length);
        }

        _memfd?.Dispose();
    }

    private PagePlacement MarkReceived(ulong offset, ulong length, UffdPlacement filled)
    {
        long first = PageIndex(offset);
        long count = PageIndex(length);
        long marked = 0;
        for (long page = first; page < first + count; page++)
        {
            if (States.TryApply(page, PageMachine.Trigger.Place).Applied)
            {
                marked++;
            }
        }

        return new PagePlacement(
            PageIndex(filled.BytesFilled),
            PageIndex(filled.BytesAlreadyPresent),
            marked,
            count - marked,
            filled.Retries);
    }

    /// <summary>The index in <see cref="States"/> of the page holding <paramref name="offset"/>: a shift, for the callers on the per-page path.</summary>
    public long PageIndex(ulong offset) => (long)(offset >> _pageShift);

    private void CheckRange(ulong offset, ulong length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ulong mask = (ulong)PageSize - 1;
        if ((offset & mask) != 0 || (length & mask) != 0 || length == 0 || offset > Length || length > Length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[0x{offset:X}, +0x{length:X}) is not a page-aligned range inside block '{Name}' (0x{Length:X} bytes, pages of 0x{PageSize:X})");
        }
    }

    /// <summary>Any range inside the block, for the plain copies through the unregistered alias.</summary>
    private void CheckBounds(ulong offset, ulong length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset > Length || length > Length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[0x{offset:X}, +0x{length:X}) is outside block '{Name}' (0x{Length:X} bytes)");
        }
    }

    private static UserfaultfdException HugePageFailure(string operation, int pageSize)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new UserfaultfdException(operation, errno,
            $"{operation} for {pageSize >> 20} MiB pages failed with {Errno.Name(errno)}: {Marshal.GetPInvokeErrorMessage(errno)}; " +
            $"the kernel needs huge pages of that size reserved: /sys/kernel/mm/hugepages/hugepages-{pageSize >> 10}kB/nr_hugepages (as root).");
    }

    private static UserfaultfdException Failure(string operation, ulong length)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new UserfaultfdException(operation, errno, $"{operation} of 0x{length:X} bytes failed with {Errno.Name(errno)}: {Marshal.GetPInvokeErrorMessage(errno)}.");
    }
}
