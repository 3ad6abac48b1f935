using System.IO.MemoryMappedFiles;
using Qmig.Wire.IO;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Extraction;

/// <summary>
/// One image file per RAM block, exactly the block's used length, holding the final content of
/// every page after all iterations. Files are memory-mapped, so applying a page is one copy; they
/// start sparse and zero, so zero pages cost nothing unless they overwrite earlier data.
/// </summary>
public sealed unsafe class RamImageSet : IDisposable
{
    private readonly string _directory;
    private readonly List<Image?> _images = [];
    private readonly int _pageSize;

    public RamImageSet(string directory, int pageSize)
    {
        _directory = directory;
        _pageSize = pageSize;
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

    public void AddBlock(RamBlock block)
    {
        while (_images.Count <= block.Index)
        {
            _images.Add(null);
        }

        _images[block.Index]?.Dispose();
        var path = Path.Combine(_directory, RelativePath(block.Name));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _images[block.Index] = new Image(block, path);
    }

    /// <summary>Applies one page record; the reader has already checked that the page lies inside the block.</summary>
    public void Apply(in RamRecord ram, RamBlock block)
    {
        var image = _images[block.Index] ?? throw new InvalidOperationException($"no image for block {block}");
        var offset = (long)ram.Offset;
        if (ram.IsPage)
        {
            ram.Page.CopyTo(image.Writable(offset, _pageSize));
        }
        else if (ram.IsZero)
        {
            // A page no record has written is still the file's hole: zero without touching it.
            if (ram.Fill != 0)
            {
                image.Writable(offset, _pageSize).Fill(ram.Fill);
            }
            else if (image.MayHoldData(offset, _pageSize))
            {
                var page = image.Writable(offset, _pageSize);
                if (page.ContainsAnyExcept((byte)0))
                {
                    page.Clear();
                }
            }
        }
        else if (ram.IsXbzrle)
        {
            if (!Xbzrle.TryApply(ram.XbzrleData, image.Writable(offset, _pageSize), out var problem))
            {
                throw new InvalidDataException($"XBZRLE page at 0x{ram.Offset:x} of {block}: {problem}");
            }
        }
        else if (ram.IsCompress)
        {
            Inflate(ram.Compressed, image.Writable(offset, _pageSize), block, ram.Offset);
        }
    }

    /// <summary>
    /// Copies whole consecutive pages in one go (mapped-ram's pages region, or any run of PAGE
    /// records); the reader has already checked that they lie inside the block.
    /// </summary>
    public void ApplyPages(RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
    {
        var image = _images[block.Index] ?? throw new InvalidOperationException($"no image for block {block}");
        pages.CopyTo(image.Writable((long)offset, pages.Length));
    }

    /// <summary>
    /// A writable window on a block's image, for callers that place bytes themselves (a
    /// benchmark's baseline, a tool that copies whole blocks); bounds are checked.
    /// </summary>
    public Span<byte> Window(RamBlock block, ulong offset, int length)
    {
        var image = _images[block.Index] ?? throw new InvalidOperationException($"no image for block {block}");
        if (offset > block.UsedLength || block.UsedLength - offset < (ulong)length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"0x{offset:x}+0x{length:x} is outside {block}");
        }

        return image.Writable((long)offset, length);
    }

    private static void Inflate(ReadOnlySpan<byte> compressed, Span<byte> page, RamBlock block, ulong offset)
    {
        if (!CompressedPage.TryInflate(compressed, page, out var problem))
        {
            throw new InvalidDataException($"compressed page at 0x{offset:x} of {block} {problem}");
        }
    }

    public void Dispose()
    {
        foreach (var image in _images)
        {
            image?.Dispose();
        }
    }

    private sealed class Image : IDisposable
    {
        private const int ChunkBits = 21;

        private readonly FileMapping? _mapping;
        private readonly bool[]? _populated;
        private readonly MemoryMappedFile? _file;
        private readonly MemoryMappedViewAccessor? _view;
        private readonly byte* _base;

        public Image(RamBlock block, string path)
        {
            Block = block;
            Path = path;
            using var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite);
            stream.SetLength((long)block.UsedLength);
            if (block.UsedLength == 0)
            {
                return;
            }

            // mmap(2) directly where possible: MemoryMappedViewAccessor.Dispose msyncs, which made
            // every extraction wait until its images were on disk.
            _mapping = FileMapping.TryMap(stream.SafeFileHandle, (long)block.UsedLength, writable: true);
            if (_mapping is not null)
            {
                _base = _mapping.Pointer;
                _populated = new bool[(int)((_mapping.Length + (1L << ChunkBits) - 1) >> ChunkBits)];
                return;
            }

            _file = MemoryMappedFile.CreateFromFile(stream, null, (long)block.UsedLength, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            _view = _file.CreateViewAccessor(0, (long)block.UsedLength, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
        }

        public RamBlock Block { get; }

        public string Path { get; }

        /// <summary>
        /// The bytes at <paramref name="offset"/>, ready to write. With mmap(2) each first write to
        /// a page would trap into the kernel on its own (about as costly as copying the page
        /// several times, more so in a VM); the 2 MiB chunks around it are populated in one call
        /// instead. The price: a chunk that receives any page is allocated whole, so the image is
        /// sparse at 2 MiB granularity, not 4 KiB.
        /// </summary>
        public Span<byte> Writable(long offset, int size)
        {
            if (_populated is not null)
            {
                var last = (offset + size - 1) >> ChunkBits;
                for (var chunk = offset >> ChunkBits; chunk <= last; chunk++)
                {
                    if (!_populated[chunk])
                    {
                        _populated[chunk] = true;
                        var start = chunk << ChunkBits;
                        _mapping!.Populate(start, Math.Min(1L << ChunkBits, _mapping.Length - start), forWriting: true);
                    }
                }
            }

            return new Span<byte>(_base + offset, size);
        }

        /// <summary>False when nothing has been written around <paramref name="offset"/> yet, so the bytes are the file's zeros.</summary>
        public bool MayHoldData(long offset, int size)
        {
            if (_populated is null)
            {
                return true;
            }

            for (var chunk = offset >> ChunkBits; chunk <= (offset + size - 1) >> ChunkBits; chunk++)
            {
                if (_populated[chunk])
                {
                    return true;
                }
            }

            return false;
        }

        public void Dispose()
        {
            _mapping?.Dispose();
            if (_view is not null)
            {
                _view.SafeMemoryMappedViewHandle.ReleasePointer();
                _view.Dispose();
                _file!.Dispose();
            }
        }
    }
}
