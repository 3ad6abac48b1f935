using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Qmig.Wire.IO;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Extraction;

/// <summary>
/// A saved migration stream (QEMU <c>migrate file:</c> or <c>exec:</c>, mapped-ram, a libvirt save
/// image, <c>qmig receive</c>'s OUT.mig) opened for random access to the guest it holds: the RAM
/// blocks with the final content of every page, the configuration record and the device sections,
/// each exactly as in the file. The file is mapped; one pass over the record headers builds a
/// <see cref="BlockPageIndex"/> per block, so a page is then found in constant time and returned
/// as a span over the mapping (no copy). A mapped-ram file needs no pass over its pages: its
/// bitmaps are the index, and its pages regions are not read at open. Pages whose final content is in no one place of the file (XBZRLE deltas,
/// 7.2 fill bytes) are decoded once, at open, into anonymous memory; 7.2 compressed pages are
/// checked at open and inflated on each read into the caller's scratch. Any fault in the stream
/// therefore shows at <see cref="Open"/>, never while pages are read.
/// </summary>
/// <remarks>
/// <see cref="ReadPage"/> may be called from several threads at once. The file must not change
/// while it is open: the pages are read from the mapping, not from a copy.
/// </remarks>
public sealed unsafe partial class SavedStream : IDisposable
{
    private readonly FileMapping _mapping;

    /// <summary>The file, kept open for <see cref="ReadPages"/>, which reads through the kernel rather than the mapping.</summary>
    private readonly FileStream _file;

    /// <summary>Its handle, taken once: FileStream.SafeFileHandle seeks to its position on every read of it.</summary>
    private readonly SafeFileHandle _fileHandle;
    private readonly BlockPageIndex[] _index;
    private readonly DecodedPageStore _decoded;
    private byte* _base;

    private SavedStream(FileStream file, FileMapping mapping, SavedStreamLayout layout, long startOffset, LibvirtSaveImage? libvirt, SavedStreamIndexStatus index)
    {
        _file = file;
        _fileHandle = file.SafeFileHandle;
        _mapping = mapping;
        _base = mapping.Pointer;
        _index = [.. layout.Blocks];
        _decoded = layout.Decoded;
        StartOffset = startOffset;
        LibvirtImage = libvirt;
        Index = index;
        TargetPageSize = layout.PageSize;
        Blocks = [.. _index.Select(i => i.Block)];
        MachineType = layout.MachineType;
        ConfigurationRecord = Copy(layout.Configuration);
        ConfigurationSubsections = [.. layout.ConfigurationSubsections.Select(sub => new ConfigurationSubsection(
            sub.Name, ConfigurationRecord.Slice((int)(sub.Start - layout.Configuration.Start), (int)(sub.End - sub.Start))))];
        EarlySetupSections = CopyAll(layout.EarlySetupSections);
        DeviceSections = CopyAll(layout.DeviceSections);
        IsMappedRam = layout.MappedRam;
    }

    /// <summary>Where the page index came from, and what became of <see cref="SavedStreamOptions.IndexFile"/>.</summary>
    public SavedStreamIndexStatus Index { get; }

    /// <summary>Where the stream begins in the file (the libvirt header's end, or the offset given).</summary>
    public long StartOffset { get; }

    /// <summary>The libvirt save-image header the stream was found behind, if any.</summary>
    public LibvirtSaveImage? LibvirtImage { get; }

    /// <summary>The stream's target page size; every page <see cref="ReadPage"/> returns has this many bytes.</summary>
    public int TargetPageSize { get; }

    /// <summary>The RAM blocks of the MEM_SIZE list, in its order (idstr, used length, page size when the list carried one).</summary>
    public IReadOnlyList<RamBlock> Blocks { get; }

    /// <summary>The machine type from the configuration record, or null when the stream has none.</summary>
    public string? MachineType { get; }

    /// <summary>The QEMU_VM_CONFIGURATION record with its subsections, from its 0x07 byte, exactly as in the file; empty when there is none.</summary>
    public ReadOnlyMemory<byte> ConfigurationRecord { get; }

    /// <summary>The subsections of <see cref="ConfigurationRecord"/> (target-page-bits, capabilities, uuid), in its order, each a slice of it.</summary>
    public IReadOnlyList<ConfigurationSubsection> ConfigurationSubsections { get; }

    /// <summary>
    /// FULL sections of the set-up phase (QEMU 8.0+ <c>early_setup</c> devices such as virtio-mem):
    /// those before the first SECTION_PART, SECTION_END or RAM page record, each from its header
    /// through its footer (when the stream has footers) exactly as in the file. The stream does not
    /// mark early_setup devices; QEMU saves them, and only them, in its set-up phase.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> EarlySetupSections { get; }

    /// <summary>
    /// The device sections: every FULL section after the set-up phase (in a QEMU stream, what follows the RAM END),
    /// each from its header through its footer exactly as in the file, in file order.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> DeviceSections { get; }

    /// <summary>The stream is mapped-ram (QEMU 9.0+ <c>file:</c>): the block bitmaps are the index.</summary>
    public bool IsMappedRam { get; }

    /// <summary>Bytes of page index reserved: 8 per target page of every non-mapped-ram block (backed by memory only where written).</summary>
    public long IndexBytes => _index.Sum(i => i.EntryBytes);

    /// <summary>Bytes of anonymous memory holding decoded pages (XBZRLE, fill bytes).</summary>
    public long DecodedPageBytes => _decoded.Bytes;

    /// <summary>Pages whose final content is held decoded.</summary>
    public long DecodedPages => _decoded.LivePages;

    /// <summary>Pages the stream holds for block <paramref name="blockIndex"/>: its used length in target pages.</summary>
    public long PageCount(int blockIndex) => Block(blockIndex).PageCount;

    /// <summary>
    /// The final content of target page <paramref name="targetPage"/> of block
    /// <paramref name="blockIndex"/>: empty when the page is zero (a ZERO record, a page no record
    /// wrote, a clear mapped-ram bit); otherwise <see cref="TargetPageSize"/> bytes, over the mapped
    /// file or the decoded-page memory, or inflated into <paramref name="scratch"/> (7.2 compressed
    /// pages). A page the stream carried as data is returned as data even if its bytes are all zero.
    /// </summary>
    public ReadOnlySpan<byte> ReadPage(int blockIndex, long targetPage, Span<byte> scratch)
    {
        var block = Block(blockIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(targetPage);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(targetPage, block.PageCount);
        var pageBytes = TargetPageSize;
        if (block.IsMappedRam)
        {
            return block.IsPresent(targetPage) ? new ReadOnlySpan<byte>(_base + block.PagesOffset + (targetPage * pageBytes), pageBytes) : default;
        }

        var entry = block[targetPage];
        var value = entry & BlockPageIndex.ValueMask;
        switch (entry & BlockPageIndex.KindMask)
        {
            case BlockPageIndex.FilePage:
                return new ReadOnlySpan<byte>(_base + (long)value, pageBytes);
            case BlockPageIndex.DecodedPage:
                return _decoded.Page((long)value);
            case BlockPageIndex.CompressedPage:
                ArgumentOutOfRangeException.ThrowIfLessThan(scratch.Length, pageBytes, nameof(scratch));
                var page = scratch.Slice(0, pageBytes);
                InflateAt((long)value, page);
                return page;
            default:
                return default;
        }
    }

    /// <summary>
    /// The final content of <c>destination.Length / TargetPageSize</c> consecutive target pages of block
    /// <paramref name="blockIndex"/> from <paramref name="firstTargetPage"/> on, page i into
    /// <c>destination[(i * TargetPageSize)..]</c>. <paramref name="zero"/>[i] is set for a zero page, whose bytes in
    /// <paramref name="destination"/> are left as they were, and cleared for every other. Pages in the file are
    /// read with preadv, a run of records per call with the bytes between pages read into a discarded piece:
    /// through the kernel's own mapping of the file, so reading a whole snapshot costs no page-table work
    /// (on a paravirtualized machine touching every page of a 1 GiB mapping took longer than copying it).
    /// </summary>
    /// <exception cref="ArgumentException">The range is outside the block, <paramref name="destination"/> is not a whole number of pages, or <paramref name="zero"/> is shorter than the page count.</exception>
    /// <exception cref="IOException">The file could not be read (it must not change while it is open).</exception>
    public void ReadPages(int blockIndex, long firstTargetPage, Span<byte> destination, Span<bool> zero)
    {
        var block = Block(blockIndex);
        var pageBytes = TargetPageSize;
        var count = destination.Length / pageBytes;
        if (destination.Length % pageBytes != 0)
        {
            throw new ArgumentException($"{destination.Length} bytes are not a whole number of {pageBytes}-byte pages", nameof(destination));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(zero.Length, count, nameof(zero));
        ArgumentOutOfRangeException.ThrowIfNegative(firstTargetPage);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstTargetPage + count, block.PageCount, nameof(destination));

        Span<byte> between = stackalloc byte[MaxBytesBetweenPages];
        var vectorCount = Math.Min(VectoredIo.MaxVectors, 2 * count);
        Span<IoVector> vectors = vectorCount <= 512 ? stackalloc IoVector[vectorCount] : new IoVector[vectorCount];
        fixed (byte* pages = destination)
        fixed (byte* gap = between)
        {
            var used = 0;
            long runStart = 0, runEnd = 0;
            for (var i = 0; i < count; i++)
            {
                var page = pages + ((long)i * pageBytes);
                var at = ReadIntoOrLocate(block, firstTargetPage + i, new Span<byte>(page, pageBytes), out zero[i]);
                if (at < 0)
                {
                    continue;
                }

                var joins = used > 0 && at >= runEnd && at - runEnd <= MaxBytesBetweenPages && used + 2 <= vectors.Length;
                if (!joins)
                {
                    ReadRun(vectors[..used], runStart);
                    used = 0;
                    runStart = runEnd = at;
                }

                if (at > runEnd)
                {
                    vectors[used++] = new IoVector(gap, (nuint)(at - runEnd));
                }

                vectors[used++] = new IoVector(page, (nuint)pageBytes);
                runEnd = at + pageBytes;
            }

            ReadRun(vectors[..used], runStart);
        }
    }

    /// <summary>Longest gap between two pages' bytes that one preadv reads across: a page record's header with a block name.</summary>
    private const int MaxBytesBetweenPages = 8 + 1 + 255;

    /// <summary>
    /// For a page whose bytes lie in the file, its file offset; for any other, -1 after filling
    /// <paramref name="page"/> (decoded, inflated) or setting <paramref name="isZero"/>.
    /// </summary>
    private long ReadIntoOrLocate(BlockPageIndex block, long targetPage, Span<byte> page, out bool isZero)
    {
        isZero = false;
        if (block.IsMappedRam)
        {
            isZero = !block.IsPresent(targetPage);
            return isZero ? -1 : block.PagesOffset + (targetPage * TargetPageSize);
        }

        var entry = block[targetPage];
        var value = entry & BlockPageIndex.ValueMask;
        switch (entry & BlockPageIndex.KindMask)
        {
            case BlockPageIndex.FilePage:
                return (long)value;
            case BlockPageIndex.DecodedPage:
                _decoded.Page((long)value).CopyTo(page);
                return -1;
            case BlockPageIndex.CompressedPage:
                InflateAt((long)value, page);
                return -1;
            default:
                isZero = true;
                return -1;
        }
    }

    private void ReadRun(Span<IoVector> vectors, long offset)
    {
        if (!vectors.IsEmpty)
        {
            VectoredIo.Read(_fileHandle, vectors, offset);
        }
    }

    private ReadOnlyMemory<byte> Copy((long Start, long End) range) =>
        range.End > range.Start ? new ReadOnlySpan<byte>(_base + range.Start, (int)(range.End - range.Start)).ToArray() : ReadOnlyMemory<byte>.Empty;

    /// <summary>The sections as slices of one array: a guest's device state is small, and a copy outlives the mapping.</summary>
    private ReadOnlyMemory<byte>[] CopyAll(List<(long Start, long End)> ranges)
    {
        var all = new byte[ranges.Sum(r => r.End - r.Start)];
        var slices = new ReadOnlyMemory<byte>[ranges.Count];
        var at = 0;
        for (var i = 0; i < ranges.Count; i++)
        {
            var length = (int)(ranges[i].End - ranges[i].Start);
            new ReadOnlySpan<byte>(_base + ranges[i].Start, length).CopyTo(all.AsSpan(at));
            slices[i] = all.AsMemory(at, length);
            at += length;
        }

        return slices;
    }

    private BlockPageIndex Block(int blockIndex)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        ArgumentOutOfRangeException.ThrowIfNegative(blockIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(blockIndex, _index.Length);
        return _index[blockIndex];
    }

    /// <summary>Inflates the zlib payload at <paramref name="offset"/> (its big-endian length is the 4 bytes before it).</summary>
    private void InflateAt(long offset, Span<byte> page)
    {
        var length = BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(_base + offset - 4, 4));
        if (!CompressedPage.TryInflate(new ReadOnlySpan<byte>(_base + offset, (int)length), page, out var problem))
        {
            // Open inflated every compressed page once; only a file changed since can fail here.
            throw new InvalidDataException($"the compressed page at 0x{offset:x} {problem}: the file changed after it was opened");
        }
    }

    /// <summary>
    /// Maps <paramref name="path"/> and indexes the stream in it. Throws
    /// <see cref="MigrationFormatException"/> for a stream that cannot be served as a guest (its
    /// error names the byte offset, the record and the QMIG rule; <see cref="MigrationRules.Unsupported"/>
    /// for a valid stream this type does not take, such as a recorded postcopy migration or an
    /// x-ignore-shared stream), and <see cref="IOException"/> when the file cannot be read or mapped.
    /// </summary>
    public static SavedStream Open(string path, SavedStreamOptions? options = null)
    {
        options ??= new SavedStreamOptions();
        var input = OpenInput(path, options.StartOffset);
        try
        {
            return OpenFile(input, path, options);
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    /// <summary>Maps and indexes the opened file; on success the stream owns it (<see cref="ReadPages"/> reads through it).</summary>
    private static SavedStream OpenFile(MigrationInput input, string path, SavedStreamOptions options)
    {
        var file = input.File!;
        var length = input.Length!.Value;
        var start = input.StartOffset;
        var libvirt = input.LibvirtImage;
        if (start == length)
        {
            throw Invalid(start, "file", MigrationRules.Truncated, $"the stream would begin at 0x{start:x}, the end of the file");
        }

        var mapping = FileMapping.TryMap(file.SafeFileHandle, length, writable: false)
            ?? throw new IOException($"{path}: cannot be mapped into memory (mmap, Linux 64-bit only)");
        try
        {
            var key = new SavedStreamIndexFile.Key(start, options.TargetPageSize);
            var identity = options.IndexFile is null ? null : FileIdentity.Of(file.SafeFileHandle);
            string? notLoaded = null;
            if (options.IndexFile is not null)
            {
                notLoaded = identity is null ? "the stream file's identity cannot be read (statx)"
                    : options.VmDescription is not null ? "an explicit vmdesc was given, which an index file does not record"
                    : null;
                if (notLoaded is null)
                {
                    var kept = SavedStreamIndexFile.TryLoad(options.IndexFile, mapping, identity!.Value, key, options, out var problem);
                    if (kept is not null)
                    {
                        mapping.AdviseRandomReads();
                        return new SavedStream(file, mapping, kept, start, libvirt, new SavedStreamIndexStatus(SavedStreamIndexSource.IndexFile, Saved: false, null, null));
                    }

                    notLoaded = problem;
                }
            }

            var layout = Scan(file, mapping, start, options);
            try
            {
                var status = new SavedStreamIndexStatus(layout.MappedRam ? SavedStreamIndexSource.MappedRamBitmaps : SavedStreamIndexSource.Scanned, false, null, null);
                if (options.IndexFile is not null && !layout.MappedRam)
                {
                    status = status with { NotLoadedBecause = notLoaded, NotSavedBecause = identity is null || options.VmDescription is not null ? notLoaded : null };
                    if (status.NotSavedBecause is null)
                    {
                        try
                        {
                            SavedStreamIndexFile.Save(options.IndexFile, layout, identity!.Value, key);
                            status = status with { Saved = true };
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            status = status with { NotSavedBecause = e.Message };
                        }
                    }
                }

                mapping.AdviseRandomReads();
                return new SavedStream(file, mapping, layout, start, libvirt, status);
            }
            catch
            {
                layout.Dispose();
                throw;
            }
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>The file positioned at its stream: a compressed libvirt image, or a start beyond the end, is a <see cref="MigrationFormatException"/>.</summary>
    private static MigrationInput OpenInput(string path, long? startOffset)
    {
        try
        {
            return MigrationInput.OpenFile(path, startOffset);
        }
        catch (MigrationInputException e)
        {
            throw new MigrationFormatException(e.Error);
        }
    }

    /// <summary>The one pass over the stream's record headers (its configuration and block bitmaps only, for mapped-ram).</summary>
    private static SavedStreamLayout Scan(FileStream file, FileMapping mapping, long start, SavedStreamOptions options)
    {
        var description = options.VmDescription ?? TrailingVmDescription(file);
        var indexer = new Indexer(mapping, options.MaxRamBytes, options.MaxDecodedPageBytes);
        try
        {
            var reader = new MigrationStreamReader(new MigrationReaderOptions
            {
                StartOffset = start,
                TargetPageSize = options.TargetPageSize,
                VmDescription = description,
            });
            indexer.Run(reader, file, start);
            return indexer.Layout;
        }
        catch
        {
            indexer.Layout.Dispose();
            throw;
        }
    }

    /// <summary>The vmdesc a complete stream ends with; null when it has none or it cannot be decoded (footers then delimit bodies).</summary>
    private static VmDescriptionDocument? TrailingVmDescription(FileStream file) => VmDescriptionDocument.ReadTrailing(file, out _);

    private static MigrationFormatException Invalid(long offset, string record, MigrationRule rule, string message) =>
        new(new MigrationError(offset, record, rule, message));

    /// <summary>Unmaps the file; pages and sections handed out before must not be used after.</summary>
    public void Dispose()
    {
        if (_base == null)
        {
            return;
        }

        _base = null;
        foreach (var block in _index)
        {
            block.Dispose();
        }

        _decoded.Dispose();
        _mapping.Dispose();
        _file.Dispose();
    }
}
