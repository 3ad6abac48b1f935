using System.Buffers;
using System.Security.Cryptography;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>
/// RamImageSet standing in for a destination's guest memory: every block gets an image file and
/// every page record the reader hands over is applied to it, as <c>qmig extract</c> does.
/// </summary>
public sealed class ImageDestination : IDisposable
{
    private readonly RamImageSet _images;
    private bool _closed;

    public ImageDestination()
    {
        Directory = Path.Combine(Path.GetTempPath(), "qmig-bounds-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        _images = new RamImageSet(Directory, StreamModelWriter.PageSize);
    }

    public string Directory { get; }

    public MigrationStreamReader Reader { get; } = new();

    public OperationStatus Read(byte[] bytes, bool isFinalBlock)
    {
        var sequence = new ReadOnlySequence<byte>(bytes);
        var visitor = new Visitor(_images);
        return Reader.Read(ref sequence, isFinalBlock, ref visitor);
    }

    /// <summary>SHA-256 of every image file, by name (the images are closed first: RamImageSet writes the pages it still holds then).</summary>
    public SortedDictionary<string, string> Hashes()
    {
        Close();
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories))
        {
            hashes[Path.GetRelativePath(Directory, file)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        }

        return hashes;
    }

    public void Dispose()
    {
        Close();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private void Close()
    {
        if (!_closed)
        {
            _closed = true;
            _images.Dispose();
        }
    }

    private readonly struct Visitor(RamImageSet images) : IMigrationVisitor
    {
        public void OnRamBlock(in RecordInfo record, RamBlock block) => images.AddBlock(block);

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            if (block is not null)
            {
                images.Apply(ram, block);
            }
        }

        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => images.ApplyPages(block, offset, pages);

        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
        {
        }

        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
        {
        }

        public void OnFileHeader(in RecordInfo record, uint version)
        {
        }

        public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
        {
        }

        public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
        {
        }

        public void OnSectionHeader(in RecordInfo record, SectionInfo section)
        {
        }

        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
        {
        }

        public void OnSectionFooter(in RecordInfo record, SectionInfo section)
        {
        }

        public void OnCommand(in RecordInfo record, in Command command)
        {
        }

        public void OnEndOfSections(in RecordInfo record)
        {
        }

        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
        {
        }
    }
}
