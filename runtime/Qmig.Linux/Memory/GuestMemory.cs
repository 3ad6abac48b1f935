namespace Qmig.Linux.Memory;

/// <summary>
/// The destination's guest RAM: one <see cref="RamBlockMemory"/> per RAM block, all registered with the
/// same userfaultfd, so one fault thread can route any fault to its block.
/// </summary>
public sealed class GuestMemory : IDisposable
{
    private readonly Lock _gate = new();
    private readonly bool _ownsUserfaultfd;
    // Sorted by base address and replaced wholesale when a block is added, so the fault thread looks up
    // blocks without taking the lock.
    private volatile RamBlockMemory[] _byAddress = [];
    private readonly Dictionary<string, RamBlockMemory> _byName = new(StringComparer.Ordinal);

    /// <summary>Guest RAM whose blocks register with <paramref name="userfaultfd"/>; disposing this disposes the descriptor too when <paramref name="ownsUserfaultfd"/>.</summary>
    public GuestMemory(Userfaultfd userfaultfd, bool ownsUserfaultfd = false)
    {
        Userfaultfd = userfaultfd ?? throw new ArgumentNullException(nameof(userfaultfd));
        _ownsUserfaultfd = ownsUserfaultfd;
    }

    /// <summary>The descriptor every block is registered with; its events are the guest's missing-page faults.</summary>
    public Userfaultfd Userfaultfd { get; }

    /// <summary>The blocks in address order, a snapshot safe to enumerate while another thread adds one.</summary>
    public IReadOnlyList<RamBlockMemory> Blocks => _byAddress;

    /// <summary>
    /// Maps and registers a block for <paramref name="name"/> (the RAM block id the stream uses, e.g. <c>pc.ram</c>)
    /// of <paramref name="length"/> bytes; throws if the name is taken.
    /// </summary>
    public RamBlockMemory AddBlock(string name, ulong length, RamBlockOptions? options = null)
    {
        lock (_gate)
        {
            if (_byName.ContainsKey(name))
            {
                throw new ArgumentException($"RAM block '{name}' already exists", nameof(name));
            }

            RamBlockMemory block = RamBlockMemory.Create(Userfaultfd, name, length, options);
            _byName.Add(name, block);
            var blocks = new RamBlockMemory[_byAddress.Length + 1];
            _byAddress.CopyTo(blocks, 0);
            blocks[^1] = block;
            Array.Sort(blocks, static (a, b) => a.BaseAddress.CompareTo(b.BaseAddress));
            _byAddress = blocks;
            return block;
        }
    }

    /// <summary>The block named as the stream names it; throws <see cref="KeyNotFoundException"/> if there is none.</summary>
    public RamBlockMemory this[string name]
    {
        get
        {
            lock (_gate)
            {
                return _byName[name];
            }
        }
    }

    /// <summary>The block containing <paramref name="address"/>, by binary search; null if none does.</summary>
    public RamBlockMemory? FindBlock(ulong address)
    {
        RamBlockMemory[] blocks = _byAddress;
        int low = 0, high = blocks.Length - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            RamBlockMemory block = blocks[middle];
            if (address < block.BaseAddress)
            {
                high = middle - 1;
            }
            else if (address - block.BaseAddress >= block.Length)
            {
                low = middle + 1;
            }
            else
            {
                return block;
            }
        }

        return null;
    }

    /// <summary>Routes a page-fault event to its block (see <see cref="RamBlockMemory.HandleFault"/>).</summary>
    public FaultOutcome HandleFault(in UffdEvent pageFault)
    {
        if (pageFault.Kind != UffdEventKind.PageFault)
        {
            throw new ArgumentException("not a page-fault event: " + pageFault, nameof(pageFault));
        }

        RamBlockMemory? block = FindBlock(pageFault.Address);
        return block is null
            ? new FaultOutcome(FaultDisposition.OutsideGuestMemory, null, 0)
            : block.HandleFault(pageFault.Address);
    }

    /// <summary>Unregisters every block (see <see cref="RamBlockMemory.StopFaulting"/>), waking blocked threads.</summary>
    public void StopFaulting()
    {
        foreach (RamBlockMemory block in _byAddress)
        {
            block.StopFaulting();
        }
    }

    /// <summary>Unmaps every block and, when this owns it, closes the userfaultfd; nothing may touch guest memory afterwards.</summary>
    public void Dispose()
    {
        RamBlockMemory[] blocks;
        lock (_gate)
        {
            blocks = _byAddress;
            _byAddress = [];
            _byName.Clear();
        }

        foreach (RamBlockMemory block in blocks)
        {
            block.Dispose();
        }

        if (_ownsUserfaultfd)
        {
            Userfaultfd.Dispose();
        }
    }
}
