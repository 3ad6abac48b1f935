using Qmig.Wire.Streaming;

namespace Qmig.Wire.Analysis;

/// <summary>
/// Splits a stream's RAM records into <see cref="RamRound"/>s. Call it from an
/// <see cref="IMigrationVisitor"/>: <see cref="OnSectionHeader"/>, <see cref="OnRamRecord"/>,
/// <see cref="OnMappedRamHeader"/>, <see cref="OnRamPages"/> and <see cref="OnCommand"/> with what the reader handed over. The page
/// path only adds to counters, so a visitor that counts rounds stays as fast as the reader.
/// </summary>
/// <remarks>
/// A body starts at a SECTION_START, SECTION_PART or SECTION_END of the RAM section (FULL never
/// holds RAM) and ends at its EOS. RAM records outside a RAM section body (a postcopy-preempt
/// channel's bare records) belong to no round.
/// </remarks>
public sealed class RamRoundCounter
{
    private readonly List<RamRound> _rounds = [];
    private RamRound? _open;
    private bool _postcopy;
    private int _iterations;
    private long _mappedPageSize;

    /// <summary>Every RAM section body so far, in stream order.</summary>
    public IReadOnlyList<RamRound> Rounds => _rounds;

    /// <summary>How many precopy rounds (SECTION_PART bodies) there were.</summary>
    public int Iterations => _iterations;

    /// <summary>A section header: a START, PART or END of the RAM section opens a new round; any other header ends the current one.</summary>
    public void OnSectionHeader(in RecordInfo record, SectionInfo section)
    {
        _open = null;
        if (!section.IsRam || record.Kind == RecordKind.SectionFull)
        {
            return;
        }

        var kind = record.Kind switch
        {
            RecordKind.SectionStart => RamRoundKind.Setup,
            RecordKind.SectionPart => RamRoundKind.Iteration,
            _ => RamRoundKind.Completion,
        };
        _open = new RamRound(kind, kind == RamRoundKind.Iteration ? ++_iterations : 0, _postcopy, record.Offset);
        _rounds.Add(_open);
    }

    /// <summary>A RAM record: counts its page by kind in the current round, and ends the round at its EOS.</summary>
    public void OnRamRecord(in RecordInfo record, in RamRecord ram)
    {
        var round = _open;
        if (round is null)
        {
            return;
        }

        round.EndOffset = record.Offset + record.Length;
        if (ram.IsZero)
        {
            round.ZeroPages++;
        }
        else if (ram.IsPage)
        {
            round.NormalPages++;
        }
        else if (ram.IsXbzrle)
        {
            round.XbzrlePages++;
            round.XbzrleBytes += ram.LenXbzrle;
        }
        else if (ram.IsCompress)
        {
            round.CompressedPages++;
        }
        else if ((ram.Flags & RamSaveFlag.Eos) != 0)
        {
            round.EndsAtEos = true;
            _open = null;
        }
    }

    /// <summary>mapped-ram: the page size that the block's pages are counted in.</summary>
    public void OnMappedRamHeader(in MappedRamHeader header) => _mappedPageSize = (long)header.PageSize;

    /// <summary>mapped-ram: <paramref name="length"/> bytes of present pages, handed over while a body's block list is read.</summary>
    public void OnRamPages(int length)
    {
        if (_open is { } round && _mappedPageSize > 0)
        {
            round.MappedPages += length / _mappedPageSize;
        }
    }

    /// <summary>A command: POSTCOPY_RUN marks every later round as postcopy background fill.</summary>
    public void OnCommand(in Command command)
    {
        if (command.Cmd == MigCmd.PostcopyRun)
        {
            _postcopy = true;
        }
    }
}
