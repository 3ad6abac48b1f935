using Qmig.Wire.Streaming;

namespace Qmig.Wire.Analysis;

/// <summary>Where a RAM section body sits in a migration.</summary>
public enum RamRoundKind : byte
{
    /// <summary>SECTION_START: ram_save_setup, the block list (normally no pages).</summary>
    Setup,

    /// <summary>SECTION_PART: one call of ram_save_iterate, ended by its EOS: a precopy round.</summary>
    Iteration,

    /// <summary>SECTION_END: ram_save_complete, the pages still dirty when the source stopped (or the rest of postcopy).</summary>
    Completion,
}

/// <summary>
/// The RAM records of one body of the RAM section (SECTION_START, PART or END up to its EOS), counted
/// by kind. A precopy round is one <see cref="RamRoundKind.Iteration"/>; the setup and completion
/// bodies are kept as rows of their own so that the rows add up to every page of the stream.
/// </summary>
public sealed class RamRound
{
    /// <summary>A round that starts at <paramref name="startOffset"/>, counted from zero; the counter fills in the rest as it reads.</summary>
    public RamRound(RamRoundKind kind, int iteration, bool postcopy, long startOffset)
    {
        Kind = kind;
        Iteration = iteration;
        Postcopy = postcopy;
        StartOffset = startOffset;
        EndOffset = startOffset;
    }

    /// <summary>Whether the body is the setup, a precopy round or the completion, which decides how a report labels it.</summary>
    public RamRoundKind Kind { get; }

    /// <summary>1, 2, ... for iterations in stream order; 0 for the setup and completion bodies.</summary>
    public int Iteration { get; }

    /// <summary>True once the stream has said POSTCOPY_RUN: the destination is running and these pages are its background fill.</summary>
    public bool Postcopy { get; }

    /// <summary>The stream offset of the section header.</summary>
    public long StartOffset { get; }

    /// <summary>The stream offset just past the last RAM record of the body (its EOS when it has one).</summary>
    public long EndOffset { get; internal set; }

    /// <summary>False when the stream ended (or failed) inside the body, before its EOS.</summary>
    public bool EndsAtEos { get; internal set; }

    /// <summary>Pages sent as ZERO records: a fill byte instead of the page.</summary>
    public long ZeroPages { get; internal set; }

    /// <summary>Pages sent whole (PAGE records).</summary>
    public long NormalPages { get; internal set; }

    /// <summary>Pages sent as XBZRLE deltas against the page the destination already held.</summary>
    public long XbzrlePages { get; internal set; }

    /// <summary>Encoded XBZRLE bytes (the deltas, without their 3-byte headers).</summary>
    public long XbzrleBytes { get; internal set; }

    /// <summary>Pages sent zlib-compressed (QEMU 7.2's COMPRESS_PAGE).</summary>
    public long CompressedPages { get; internal set; }

    /// <summary>mapped-ram pages present in the file for the blocks this body announced (there are no page records then).</summary>
    public long MappedPages { get; internal set; }

    /// <summary>Every page this body carries, whatever its encoding.</summary>
    public long Pages => ZeroPages + NormalPages + XbzrlePages + CompressedPages + MappedPages;

    /// <summary>How tables and charts name the row: "setup", the iteration number, or "final".</summary>
    public string Label => Kind switch
    {
        RamRoundKind.Setup => "setup",
        RamRoundKind.Iteration => Iteration.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => "final",
    };

    /// <summary>The section type QEMU wrote: SECTION_START, SECTION_PART or SECTION_END.</summary>
    public string SectionName => Kind switch
    {
        RamRoundKind.Setup => RecordKind.SectionStart.QemuName(),
        RamRoundKind.Iteration => RecordKind.SectionPart.QemuName(),
        _ => RecordKind.SectionEnd.QemuName(),
    };
}
