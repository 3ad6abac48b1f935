using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Qmig.Wire.IO;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Extraction;

/// <summary>
/// One image file per RAM block, exactly the block's used length, holding the final content of
/// every page after all iterations. Files start sparse (all zero), so a zero page costs nothing
/// unless it overwrites earlier data, and pages are written with pwritev(2): consecutive pages of
/// one block collect into a run (up to 1024 pages, 4 MiB) that goes to the file in one call, in
/// stream order. Nothing of an image is mapped into the process: through a mapping every fresh
/// page of the image costs a fault and a copy, which made extraction several times slower than
/// copying the stream with dd; memory use is the run, whatever the image sizes.
/// </summary>
/// <remarks>
/// By default each page is copied into the run's own buffer. A caller whose page bytes stay
/// where they are, unchanged, until it calls <see cref="Flush"/> (a pinned read buffer it
/// refills only after flushing, native memory) passes <c>borrowPages: true</c>, and the run then
/// points at those bytes: the only copy is the kernel's, as with write(2).
/// </remarks>
public sealed unsafe class RamImageSet : IDisposable
{
    private const int RunBytes = 4 << 20;

    private readonly string _directory;
    private readonly List<Image?> _images = [];
    private readonly int _pageSize;
    private readonly bool _borrowPages;
    private readonly int _maxRunPages;
    private readonly IoVector* _run;
    private readonly byte* _staging;
    private readonly byte* _zeroPage;
    private Image? _runImage;
    private long _runStart;
    private long _runEnd;
    private int _runCount;
    private bool _disposed;

    /// <param name="directory">Where the images go, one file per block named by <see cref="RelativePath"/>.</param>
    /// <param name="pageSize">The target page size of the stream.</param>
    /// <param name="borrowPages">
    /// True when every page handed to <see cref="Apply"/> stays at its address, unchanged, until
    /// the next <see cref="Flush"/>: pages are then written from where they are, not copied first.
    /// </param>
    public RamImageSet(string directory, int pageSize, bool borrowPages = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        _directory = directory;
        _pageSize = pageSize;
        _borrowPages = borrowPages;
        _maxRunPages = Math.Clamp(RunBytes / pageSize, 1, VectoredIo.MaxVectors);
        _run = (IoVector*)NativeMemory.Alloc((nuint)_maxRunPages, (nuint)sizeof(IoVector));
        _zeroPage = (byte*)NativeMemory.AllocZeroed((nuint)pageSize);
        if (!borrowPages)
        {
            _staging = (byte*)NativeMemory.Alloc((nuint)_maxRunPages, (nuint)pageSize);
        }
    }

    /// <summary>Image paths by block, relative to the output directory (for reports).</summary>
    public IEnumerable<(RamBlock Block, string Path)> Files => _images.Where(i => i is not null).Select(i => (i!.Block, i.Path));

    /// <summary>
    /// The file name analyze-migration.py -x gives a block: its idstr as a relative path with a
    /// leading '/' dropped. Segments that would climb out of the directory are replaced, so a
    /// hostile idstr cannot name a file outside it.
    /// </summary>
    public static string RelativePath(string idstr)
    {
        var segments = idstr.TrimStart('/').Split('/')
            .Select(s => s is "" or "." or ".." ? "_" : s.Replace('\\', '_').Replace('\0', '_'));
        return Path.Combine(segments.ToArray());
    }

    /// <summary>Creates the image file of <paramref name="block"/> at its used length, so its pages can be written at their offsets.</summary>
    public void AddBlock(RamBlock block)
    {
        Flush();
        while (_images.Count <= block.Index)
        {
            _images.Add(null);
        }

        _images[block.Index]?.Dispose();
        var path = Path.Combine(_directory, RelativePath(block.Name));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _images[block.Index] = new Image(block, path, _pageSize);
    }

    /// <summary>Applies one page record; the reader has already checked that the page lies inside the block.</summary>
    public void Apply(in RamRecord ram, RamBlock block)
    {
        var image = ImageOf(block);
        var offset = (long)ram.Offset;
        if (ram.IsPage)
        {
            Append(image, offset, ram.Page, borrowed: _borrowPages);
            image.MarkData(offset, _pageSize);
        }
        else if (ram.IsZero)
        {
            if (ram.Fill != 0)
            {
                var page = new byte[_pageSize];
                page.AsSpan().Fill(ram.Fill);
                WriteNow(image, offset, page);
            }
            else if (image.MayHoldData(offset))
            {
                // A page no record has written is still the file's hole: only earlier data needs zeros.
                Append(image, offset, new ReadOnlySpan<byte>(_zeroPage, _pageSize), borrowed: true);
                image.MarkZero(offset);
            }
        }
        else if (ram.IsXbzrle)
        {
            var page = ReadPage(image, offset);
            if (!Xbzrle.TryApply(ram.XbzrleData, page, out var problem))
            {
                throw new InvalidDataException($"XBZRLE page at 0x{ram.Offset:x} of {block}: {problem}");
            }

            WriteNow(image, offset, page);
        }
        else if (ram.IsCompress)
        {
            var page = new byte[_pageSize];
            Inflate(ram.Compressed, page, block, ram.Offset);
            WriteNow(image, offset, page);
        }
    }

    /// <summary>
    /// Writes whole consecutive pages in one go (mapped-ram's pages region, or any run of PAGE
    /// records); the reader has already checked that they lie inside the block.
    /// </summary>
    public void ApplyPages(RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => WriteNow(ImageOf(block), (long)offset, pages);

    /// <summary>Writes the pages collected so far; after it returns no page handed over earlier is referenced any more.</summary>
    public void Flush()
    {
        if (_runCount == 0)
        {
            return;
        }

        var image = _runImage!;
        var count = _runCount;
        _runCount = 0;
        _runImage = null;
        VectoredIo.Write(image.Handle, new Span<IoVector>(_run, count), _runStart);
    }

    private Image ImageOf(RamBlock block) =>
        (block.Index < _images.Count ? _images[block.Index] : null) ?? throw new InvalidOperationException($"no image for block {block}");

    /// <summary>Adds a page to the run, after writing the run if the page does not continue it.</summary>
    private void Append(Image image, long offset, ReadOnlySpan<byte> page, bool borrowed)
    {
        if (_runCount > 0 && (image != _runImage || offset != _runEnd || _runCount == _maxRunPages))
        {
            Flush();
        }

        if (_runCount == 0)
        {
            _runImage = image;
            _runStart = offset;
            _runEnd = offset;
        }

        byte* bytes;
        if (borrowed)
        {
            bytes = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(page));
        }
        else
        {
            bytes = _staging + (long)_runCount * _pageSize;
            page.CopyTo(new Span<byte>(bytes, page.Length));
        }

        _run[_runCount++] = new IoVector(bytes, (nuint)page.Length);
        _runEnd += page.Length;
    }

    /// <summary>Writes at once, after the run, so that writes keep stream order.</summary>
    private void WriteNow(Image image, long offset, ReadOnlySpan<byte> bytes)
    {
        Flush();
        RandomAccess.Write(image.Handle, bytes, offset);
        image.MarkData(offset, bytes.Length);
    }

    /// <summary>A page's current content (zeros where nothing was written), for a delta to apply to.</summary>
    private byte[] ReadPage(Image image, long offset)
    {
        Flush();
        var page = new byte[_pageSize];
        if (image.MayHoldData(offset))
        {
            var read = 0;
            while (read < page.Length)
            {
                var n = RandomAccess.Read(image.Handle, page.AsSpan(read), offset + read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }

        return page;
    }

    private static void Inflate(ReadOnlySpan<byte> compressed, Span<byte> page, RamBlock block, ulong offset)
    {
        if (!CompressedPage.TryInflate(compressed, page, out var problem))
        {
            throw new InvalidDataException($"compressed page at 0x{offset:x} of {block} {problem}");
        }
    }

    /// <summary>Writes what is still collected, closes the images and frees the run.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            Flush();
        }
        finally
        {
            foreach (var image in _images)
            {
                image?.Dispose();
            }

            NativeMemory.Free(_run);
            NativeMemory.Free(_zeroPage);
            NativeMemory.Free(_staging);
        }
    }

    /// <summary>An image file and which of its pages may hold non-zero bytes.</summary>
    private sealed class Image : IDisposable
    {
        private const int PagesPerChunkBits = 12;

        // Which pages hold data, 4096 pages a chunk, only for chunks that were written: a block
        // list may announce far more than is ever sent.
        private readonly Dictionary<long, ulong[]> _dataPages = [];
        private readonly int _pageShift;
        private long _lastChunk = -1;
        private ulong[]? _lastBits;

        public Image(RamBlock block, string path, int pageSize)
        {
            Block = block;
            Path = path;
            _pageShift = System.Numerics.BitOperations.IsPow2(pageSize) ? System.Numerics.BitOperations.Log2((uint)pageSize) : -1;
            PageSize = pageSize;
            Handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
            RandomAccess.SetLength(Handle, (long)block.UsedLength);
        }

        public RamBlock Block { get; }

        public string Path { get; }

        public SafeFileHandle Handle { get; }

        private int PageSize { get; }

        public bool MayHoldData(long offset)
        {
            var page = PageIndex(offset);
            var bits = Bits(page >> PagesPerChunkBits, create: false);
            return bits is not null && (bits[(page >> 6) & 63] & (1UL << (int)(page & 63))) != 0;
        }

        public void MarkData(long offset, long length)
        {
            for (var page = PageIndex(offset); page <= PageIndex(offset + length - 1); page++)
            {
                Bits(page >> PagesPerChunkBits, create: true)![(page >> 6) & 63] |= 1UL << (int)(page & 63);
            }
        }

        public void MarkZero(long offset)
        {
            var page = PageIndex(offset);
            if (Bits(page >> PagesPerChunkBits, create: false) is { } bits)
            {
                bits[(page >> 6) & 63] &= ~(1UL << (int)(page & 63));
            }
        }

        public void Dispose() => Handle.Dispose();

        private long PageIndex(long offset) => _pageShift >= 0 ? offset >> _pageShift : offset / PageSize;

        private ulong[]? Bits(long chunk, bool create)
        {
            if (chunk == _lastChunk)
            {
                return _lastBits;
            }

            if (!_dataPages.TryGetValue(chunk, out var bits))
            {
                if (!create)
                {
                    return null;
                }

                bits = new ulong[(1 << PagesPerChunkBits) / 64];
                _dataPages.Add(chunk, bits);
            }

            _lastChunk = chunk;
            _lastBits = bits;
            return bits;
        }
    }
}
