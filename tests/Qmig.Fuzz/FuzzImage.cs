using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Fuzz;

/// <summary>
/// A destination's guest memory for the fuzzer: sparse pages in a dictionary (a hostile block list
/// may announce exabytes), written exactly as RamImageSet writes its files. A write the reader
/// should have refused throws instead of landing.
/// </summary>
public sealed class FuzzImage(int inputLength)
{
    private const int MaxPages = 4096;
    private readonly Dictionary<(int Block, ulong Offset), byte[]> _pages = [];

    public long Records { get; set; }

    public int InputLength { get; } = inputLength;

    public void Apply(in RamRecord ram, RamBlock block, int pageSize)
    {
        if (ram.Offset >= block.UsedLength || block.UsedLength - ram.Offset < (ulong)pageSize || ram.Offset % (ulong)pageSize != 0)
        {
            throw new InvalidOperationException($"the reader let a page at 0x{ram.Offset:x} through for {block}");
        }

        if (!_pages.TryGetValue((block.Index, ram.Offset), out var page))
        {
            if (_pages.Count >= MaxPages)
            {
                return;
            }

            page = new byte[pageSize];
            _pages.Add((block.Index, ram.Offset), page);
        }

        if (ram.IsPage)
        {
            ram.Page.CopyTo(page);
        }
        else if (ram.IsZero)
        {
            page.AsSpan().Fill(ram.Fill);
        }
        else if (ram.IsXbzrle && !Xbzrle.TryApply(ram.XbzrleData, page, out var problem))
        {
            throw new InvalidOperationException($"the reader accepted an XBZRLE delta that does not apply: {problem}");
        }
    }

    /// <summary>mapped-ram pages: the reader promises they lie inside their block.</summary>
    public void CheckPages(RamBlock block, ulong offset, int length)
    {
        if (offset > block.UsedLength || (ulong)length > block.UsedLength - offset)
        {
            throw new InvalidOperationException($"the reader let {length} mapped-ram bytes at 0x{offset:x} through for {block}");
        }
    }

    /// <summary>Checks what every record carries: it lies inside the input.</summary>
    public void Saw(in RecordInfo record)
    {
        Records++;
        if (record.Offset < 0 || record.Offset + record.Length > InputLength)
        {
            throw new InvalidOperationException($"a {record.Kind} record at 0x{record.Offset:x}+{record.Length} lies outside the {InputLength}-byte input");
        }
    }
}
