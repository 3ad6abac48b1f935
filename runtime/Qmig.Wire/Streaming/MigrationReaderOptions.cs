namespace Qmig.Wire.Streaming;

/// <summary>Knobs of the stream reader; the caps bound every allocation a length field could drive.</summary>
public sealed record MigrationReaderOptions
{
    /// <summary>The target page size; the configuration's target-page-bits or the vmdesc overrides it.</summary>
    public int TargetPageSize { get; init; } = 4096;

    /// <summary>The vmdesc JSON, when known in advance (read from a file's end, or given with --vmdesc).</summary>
    public VmDescriptionDocument? VmDescription { get; init; }

    /// <summary>
    /// Why the stream's own vmdesc, looked for in advance, could not be decoded (rule QMIG1108).
    /// The reader reads on without it, and reports this error where a device body needs it (a
    /// stream without section footers) rather than blaming the body.
    /// </summary>
    public MigrationError? VmDescriptionError { get; init; }

    /// <summary>Largest device body held in one piece (a body is handed to the visitor whole).</summary>
    public int MaxDeviceBodySize { get; init; } = 64 << 20;

    /// <summary>Largest vmdesc JSON accepted.</summary>
    public int MaxVmDescriptionSize { get; init; } = 64 << 20;

    /// <summary>Largest PACKAGED length accepted (QEMU allows 4 GiB; the package is streamed, not held).</summary>
    public long MaxPackagedSize { get; init; } = 1L << 30;

    /// <summary>How deep PACKAGED may nest (QEMU nests one level).</summary>
    public int MaxPackageDepth { get; init; } = 4;

    /// <summary>
    /// Where the stream begins in its file: QEMU's <c>file:PATH,offset=N</c> (used, for example,
    /// behind libvirt's save-image header). Record and error offsets count from the file's start,
    /// as mapped-ram's bitmap and page offsets do.
    /// </summary>
    public long StartOffset { get; init; }

    /// <summary>
    /// Read a postcopy-preempt channel instead of a main stream: bare RAM records (no header, no
    /// sections) that address these blocks, which only the main stream's MEM_SIZE list announces.
    /// The channel keeps its own CONTINUE state and ends at EOF, or at EOS (what 7.x sends).
    /// </summary>
    public IReadOnlyList<RamBlock>? PreemptChannelBlocks { get; init; }

    /// <summary>Sections end with a footer (send-section-footer; off only for Xen and old machine types).</summary>
    public bool? SectionFooters { get; init; }

    /// <summary>Reject ZERO pages with a non-zero fill byte (QEMU 10.x); QEMU 7.2 accepted them.</summary>
    public bool StrictZeroFill { get; init; }
}
