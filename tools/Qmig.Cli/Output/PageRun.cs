using System.Globalization;
using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Output;

/// <summary>
/// Consecutive RAM page records of one kind (ZERO, PAGE, XBZRLE, COMPRESS_PAGE) in one block,
/// gathered so that the text dump shows them as one line; a run of one keeps its usual line.
/// </summary>
internal sealed class PageRun
{
    private RecordFields? _first;
    private ulong _kind;
    private string _block = "";
    private byte _fill;
    private int _pageSize;
    private ulong _lowest;
    private ulong _highest;
    private ulong _previous;
    private bool _contiguous;
    private long _count;
    private long _end;
    private long _payloadBytes;

    public bool IsEmpty => _first is null;

    /// <summary>True when the record carries on the run (same kind, block and, for ZERO, fill byte).</summary>
    public bool Continues(in RamRecord ram, RamBlock? block) =>
        _first is not null && KindOf(ram) == _kind && (block?.Name ?? "?") == _block && (!ram.IsZero || ram.Fill == _fill);

    public static bool IsPageRecord(in RamRecord ram) => ram.IsZero || ram.IsPage || ram.IsXbzrle || ram.IsCompress;

    public void Start(RecordFields first, in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        _first = first;
        _kind = KindOf(ram);
        _block = block?.Name ?? "?";
        _fill = ram.IsZero ? ram.Fill : (byte)0;
        _pageSize = (int)ram.TargetPageSize;
        _lowest = _highest = _previous = ram.Offset;
        _contiguous = true;
        _count = 0;
        _payloadBytes = 0;
        Add(record, ram);
    }

    public void Add(in RecordInfo record, in RamRecord ram)
    {
        if (_count > 0)
        {
            _contiguous &= ram.Offset == _previous + (ulong)_pageSize;
        }

        _previous = ram.Offset;
        _lowest = Math.Min(_lowest, ram.Offset);
        _highest = Math.Max(_highest, ram.Offset);
        _count++;
        _end = record.Offset + record.Length;
        _payloadBytes += ram.IsXbzrle ? ram.LenXbzrle : ram.IsCompress ? ram.LenCompressed : 0;
    }

    /// <summary>The run as one record line (or its only record as it is), then empties the run.</summary>
    public RecordFields Take()
    {
        var first = _first ?? throw new InvalidOperationException("an empty run");
        _first = null;
        if (_count == 1)
        {
            return first;
        }

        var inv = CultureInfo.InvariantCulture;
        var kind = string.Join("|", RecordDescriber.RamFlagNames(_kind));
        var summary = string.Create(inv,
            $"×{_count:N0} {kind} {_block} 0x{_lowest:x}–0x{_highest + (ulong)_pageSize - 1:x} (pages {_lowest / (ulong)_pageSize}..{_highest / (ulong)_pageSize}{(_contiguous ? "" : ", not consecutive")}) stream 0x{first.Offset:x}–0x{_end - 1:x}");
        var run = new RecordFields(first.Type, first.Offset, (int)Math.Min(int.MaxValue, _end - first.Offset), first.Depth, first.SectionId, null)
        {
            InsideSection = first.InsideSection,
            Summary = summary,
        };
        if (_kind == (ulong)RamSaveFlag.Zero && _fill != 0)
        {
            run.Add("fill", new Hex(_fill));
        }
        else if (_kind == (ulong)RamSaveFlag.Xbzrle)
        {
            run.Add("xbzrle_bytes", _payloadBytes);
        }
        else if (_kind == (ulong)RamSaveFlag.CompressPage)
        {
            run.Add("compressed_bytes", _payloadBytes);
        }

        return run;
    }

    private static ulong KindOf(in RamRecord ram) => (ulong)ram.Flags & ~(ulong)RamSaveFlag.ContinueBlock;
}
