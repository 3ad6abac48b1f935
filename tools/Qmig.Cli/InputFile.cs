using Qmig.Wire.IO;
using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>A stream named on the command line: a file, or '-' for standard input.</summary>
internal sealed class InputFile : IDisposable
{
    private InputFile(string name, Stream stream, long? length, long startOffset)
    {
        Name = name;
        Stream = stream;
        Length = length;
        StartOffset = startOffset;
    }

    public string Name { get; }

    public Stream Stream { get; }

    public long? Length { get; }

    /// <summary>Where the migration stream begins (<c>--offset</c>); the input is positioned there.</summary>
    public long StartOffset { get; }

    public bool IsFile => Name != "<stdin>";

    public void Dispose() => Stream.Dispose();

    /// <summary>
    /// Opens <paramref name="name"/> positioned at <paramref name="startOffset"/> (standard input
    /// skips that many bytes). Without one, a libvirt save image is recognised by its header and
    /// opened at the QEMU stream inside it.
    /// </summary>
    public static InputFile Open(string name, long? startOffset = null)
    {
        if (name == "-")
        {
            var stdin = Console.OpenStandardInput(1 << 20);
            Skip(stdin, startOffset ?? 0);
            return new InputFile("<stdin>", stdin, null, startOffset ?? 0);
        }

        var stream = new FileStream(name, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        if (startOffset is null && LibvirtSaveImage.TryRead(stream) is { } image)
        {
            startOffset = StreamOffsetIn(name, image, stream);
        }

        return Positioned(name, stream, startOffset ?? 0);
    }

    private static long StreamOffsetIn(string name, LibvirtSaveImage image, FileStream stream)
    {
        if (image.IsCompressed)
        {
            stream.Dispose();
            throw new UnsupportedInputException(
                $"{name}: a libvirt save image whose QEMU stream is {image.FormatName}-compressed; decompress it and read standard input, " +
                $"e.g. tail -c +{image.StreamOffset + 1} {name} | {image.FormatName} -dc | qmig stats -");
        }

        Console.Error.WriteLine($"qmig: {name}: a libvirt save image{(image.Partial ? " that libvirt had not finished writing" : "")}; its QEMU stream begins at 0x{image.StreamOffset:x} (--offset)");
        return image.StreamOffset;
    }

    private static InputFile Positioned(string name, FileStream stream, long startOffset)
    {
        var length = stream.Length;
        if (startOffset > length)
        {
            stream.Dispose();
            throw new IOException($"{name}: --offset 0x{startOffset:x} is beyond the end of the file (0x{length:x} bytes)");
        }

        stream.Seek(startOffset, SeekOrigin.Begin);
        return new InputFile(name, stream, stream.Length, startOffset);
    }

    private static void Skip(Stream stream, long count)
    {
        var buffer = new byte[64 << 10];
        while (count > 0)
        {
            var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (read == 0)
            {
                throw new IOException($"<stdin>: ended before --offset was reached ({count} bytes short)");
            }

            count -= read;
        }
    }

    /// <summary>
    /// The vmdesc that makes device bodies exact: given with --vmdesc (a JSON file), or found at
    /// the end of a complete stream file. A live stream without one falls back to footers. A
    /// stream's own vmdesc that cannot be decoded is not used: <paramref name="undecodable"/> says
    /// why, and the reader reports it when it reaches that record, after the records before it.
    /// A --vmdesc file that cannot be decoded throws <see cref="InvalidInputException"/>.
    /// </summary>
    public VmDescriptionDocument? FindVmDescription(string? vmdescPath, out MigrationError? undecodable)
    {
        undecodable = null;
        if (vmdescPath is not null)
        {
            return VmDescriptionDocument.TryParse(File.ReadAllBytes(vmdescPath), 0, out var given, out var error)
                ? given
                : throw new InvalidInputException(vmdescPath, error);
        }

        if (!IsFile)
        {
            return null;
        }

        var found = VmDescriptionDocument.ReadTrailing(Stream, out undecodable);
        Stream.Seek(StartOffset, SeekOrigin.Begin);
        return found;
    }
}
