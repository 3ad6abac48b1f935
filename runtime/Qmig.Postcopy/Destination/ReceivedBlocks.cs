using Qmig.Linux.Memory;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The RAM blocks a destination has received the list of, each with the memory it lives in, in the
/// order of the source's block list (which is the index a record's block carries). The fault thread
/// looks blocks up by address while the reader thread may add one, so the list is replaced whole
/// on each addition and read without a lock.
/// </summary>
internal sealed class ReceivedBlocks
{
    private volatile (RamBlock Wire, RamBlockMemory Memory)[] _blocks = [];

    public int Count => _blocks.Length;

    public (RamBlock Wire, RamBlockMemory Memory)[] All => _blocks;

    public RamBlockMemory this[int index] => _blocks[index].Memory;

    public RamBlockMemory[] Memories => _blocks.Select(b => b.Memory).ToArray();

    /// <summary>Only the reader thread adds, so there is no race between two additions.</summary>
    public void Add(RamBlock wire, RamBlockMemory memory) => _blocks = [.. _blocks, (wire, memory)];

    public RamBlockMemory? FindByName(string name)
    {
        foreach (var (wire, memory) in _blocks)
        {
            if (wire.Name == name)
            {
                return memory;
            }
        }

        return null;
    }

    /// <summary>The block holding <paramref name="address"/>; a guest has a handful of blocks, so a scan.</summary>
    public RamBlockMemory? FindByAddress(ulong address)
    {
        foreach (var (_, memory) in _blocks)
        {
            if (memory.Contains(address))
            {
                return memory;
            }
        }

        return null;
    }

    /// <summary>Pages not yet received, over every block: counts each block's page states.</summary>
    public long MissingPages()
    {
        var missing = 0L;
        foreach (var (_, memory) in _blocks)
        {
            missing += memory.PageCount - memory.States.CountByState().Received;
        }

        return missing;
    }

    /// <summary>Unregisters every block, waking whoever is blocked on a page that will not come.</summary>
    public void StopFaulting()
    {
        foreach (var (_, memory) in _blocks)
        {
            memory.StopFaulting();
        }
    }
}
