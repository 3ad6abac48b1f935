using System.Runtime.InteropServices;

namespace Qmig.Wire.Extraction;

/// <summary>
/// Anonymous memory for pages whose final content exists in no one place of a file: an XBZRLE delta
/// applied on an earlier copy, or a 7.2 ZERO page with a non-zero fill byte. Slots are whole target
/// pages in chunks of <see cref="PagesPerChunk"/>; a slot whose page is later sent whole is reused,
/// so the store holds at most as many pages as were decoded-and-not-yet-replaced at any one time.
/// </summary>
internal sealed unsafe class DecodedPageStore(int pageSize) : IDisposable
{
    private const int PagesPerChunk = 256;

    private readonly List<nint> _chunks = [];
    private readonly Stack<long> _free = new();
    private long _next;

    /// <summary>Bytes of memory the store holds.</summary>
    public long Bytes => _chunks.Count * (long)PagesPerChunk * pageSize;

    /// <summary>Slots handed out so far, free ones included: slots are numbered 0 up to this.</summary>
    public long SlotCount => _next;

    /// <summary>Slots in use: pages whose final content lives here.</summary>
    public long LivePages => _next - _free.Count;

    /// <summary>Bytes the store would hold after one more page, which may mean one more chunk.</summary>
    public long BytesAfterOneMore => _free.Count > 0 || _next < _chunks.Count * (long)PagesPerChunk ? Bytes : Bytes + (PagesPerChunk * (long)pageSize);

    /// <summary>A slot for one page; its content is whatever the slot held last (the caller fills it).</summary>
    public long Allocate()
    {
        if (_free.TryPop(out var slot))
        {
            return slot;
        }

        if (_next == _chunks.Count * (long)PagesPerChunk)
        {
            _chunks.Add((nint)NativeMemory.Alloc((nuint)(PagesPerChunk * (long)pageSize)));
        }

        return _next++;
    }

    public void Release(long slot) => _free.Push(slot);

    public Span<byte> Page(long slot) => new((byte*)_chunks[(int)(slot / PagesPerChunk)] + (slot % PagesPerChunk * pageSize), pageSize);

    public void Dispose()
    {
        foreach (var chunk in _chunks)
        {
            NativeMemory.Free((void*)chunk);
        }

        _chunks.Clear();
    }
}
