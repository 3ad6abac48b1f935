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
        var visitor = new RamImageVisitor(_images);
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
}
