using Qmig.Wire.IO;
using Qmig.Wire.Streaming;
using Qmig.Wire.VmState;

namespace Qmig.Wire.Extraction;

/// <summary>How <see cref="StreamExtraction.Run"/> reads a stream; the defaults suit a complete stream file.</summary>
public sealed record StreamExtractionOptions
{
    /// <summary>
    /// A vmdesc to decode the device state with, given by the caller (the stream has none of its
    /// own, e.g. postcopy or suppress-vmdesc); it wins over the stream's own. Null: the stream's
    /// own, found at the end of a file or read at the end of a pipe.
    /// </summary>
    public VmDescriptionDocument? VmDescription { get; init; }

    /// <summary>The target page size until the stream's configuration or vmdesc says otherwise.</summary>
    public int TargetPageSize { get; init; } = 4096;

    /// <summary>
    /// The postcopy-preempt channel of the same migration, or null. Its pages are applied after the
    /// whole main stream: each page goes once in postcopy, on one channel or the other, and after the
    /// precopy pages it replaces, so the order within the two channels is all that matters.
    /// </summary>
    public MigrationInput? PreemptChannel { get; init; }

    /// <summary>Whose analyze-migration.py the state imitates; null chooses by the vmdesc (<see cref="AnalyzerShapes.For"/>).</summary>
    public AnalyzerShape? Shape { get; init; }

    /// <summary>Called now and then with the main stream's position, for a progress display.</summary>
    public Action<long>? Progress { get; init; }

    /// <summary>As <see cref="Progress"/>, for the preempt channel.</summary>
    public Action<long>? PreemptChannelProgress { get; init; }
}
