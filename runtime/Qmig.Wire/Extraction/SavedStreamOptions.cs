using Qmig.Wire.Streaming;

namespace Qmig.Wire.Extraction;

/// <summary>How <see cref="SavedStream.Open"/> finds the stream in its file and what it accepts.</summary>
public sealed record SavedStreamOptions
{
    /// <summary>
    /// Where the stream begins in the file (QEMU's <c>file:PATH,offset=N</c>). Null: a libvirt save
    /// image is recognised by its header and its stream taken; any other file starts at 0.
    /// </summary>
    public long? StartOffset { get; init; }

    /// <summary>
    /// The vmdesc that delimits device bodies exactly. Null: the stream's own, when it ends with one;
    /// without any, bodies end at their footers (a stream with neither cannot be read).
    /// </summary>
    public VmDescriptionDocument? VmDescription { get; init; }

    /// <summary>The target page size until the stream says otherwise (configuration or vmdesc).</summary>
    public int TargetPageSize { get; init; } = 4096;

    /// <summary>
    /// The most guest RAM the block list may announce: the page index holds 8 bytes for each target
    /// page (reserved up front, backed by memory only where pages are indexed), so this bounds what a
    /// hostile length field can make it reserve. 16 TiB by default (a 32 GiB index).
    /// </summary>
    public long MaxRamBytes { get; init; } = 16L << 40;

    /// <summary>
    /// The most memory that pages decoded at open (XBZRLE deltas, 7.2 fill bytes) may take: a
    /// delta of a few bytes makes a whole page, so a hostile stream could otherwise grow it 300-fold
    /// over its own size. 4 GiB by default.
    /// </summary>
    public long MaxDecodedPageBytes { get; init; } = 4L << 30;

    /// <summary>
    /// A file that keeps the page index of a stream that is not mapped-ram, so that the pass over
    /// all of its record headers runs once: <see cref="SavedStream.Open"/> loads the index from
    /// here when it was made from this same file (device, inode, size and times to the nanosecond)
    /// with the same <see cref="StartOffset"/> and <see cref="TargetPageSize"/>, and otherwise
    /// indexes the stream and writes the index here. Null (the default): no index is kept. Not used
    /// with an explicit <see cref="VmDescription"/>, which the index does not record.
    /// <see cref="SavedStream.Index"/> says what happened.
    /// </summary>
    public string? IndexFile { get; init; }
}
