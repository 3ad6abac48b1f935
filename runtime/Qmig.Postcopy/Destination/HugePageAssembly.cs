using Qmig.Linux.Memory;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Gathers the target pages of one huge page of a hugetlb-backed block, for one channel: in
/// postcopy QEMU sends a huge page whole and in order (its first target page first), and the
/// kernel places a huge page only whole, so nothing is placed until the last target page is here.
/// Each channel has its own assembly, because a source may break off a huge page on the main
/// channel to send a requested one on the preempt channel and then resume it.
/// </summary>
internal sealed class HugePageAssembly
{
    private byte[] _buffer = [];
    private RamBlockMemory? _block;
    private ulong _start;
    private int _filled;

    /// <summary>True while a huge page has some but not all of its target pages.</summary>
    public bool InProgress => _block is not null;

    /// <summary>
    /// Forgets a huge page in progress: after a broken connection the source sends every huge page
    /// that was not placed again, whole, from its first target page.
    /// </summary>
    public void Reset() => _block = null;

    /// <summary>What is being assembled, for an error message.</summary>
    public string Describe() => _block is null ? "nothing" : $"huge page 0x{_start:x} of block '{_block.Name}' ({_filled} of {_buffer.Length} bytes)";

    /// <summary>
    /// Adds the target page at <paramref name="offset"/>; when it completes its huge page, returns
    /// true with the huge page's start and bytes (valid until the next call). Returns an error
    /// message instead when the page does not continue the huge page in progress.
    /// </summary>
    public bool Add(RamBlockMemory block, ulong offset, ReadOnlySpan<byte> targetPage, out ulong hugeStart, out ReadOnlySpan<byte> hugePage, out string? error)
    {
        hugeStart = 0;
        hugePage = default;
        var pageSize = (ulong)block.PageSize;
        if (offset % pageSize == 0)
        {
            if (_block is not null)
            {
                error = $"{Describe()} was left incomplete when huge page 0x{offset:x} of block '{block.Name}' began";
                return false;
            }

            if (_buffer.Length != block.PageSize)
            {
                _buffer = GC.AllocateUninitializedArray<byte>(block.PageSize, pinned: true);
            }

            _block = block;
            _start = offset;
            _filled = 0;
        }
        else if (_block != block || offset != _start + (ulong)_filled)
        {
            error = $"target page 0x{offset:x} of block '{block.Name}' does not continue {Describe()}: QEMU sends a huge page whole and in order";
            return false;
        }

        targetPage.CopyTo(_buffer.AsSpan(_filled));
        _filled += targetPage.Length;
        error = null;
        if (_filled < _buffer.Length)
        {
            return false;
        }

        hugeStart = _start;
        hugePage = _buffer;
        _block = null;
        return true;
    }
}
