using Qmig.Wire.Streaming;

namespace Qmig.Wire.IO;

/// <summary>
/// A migration stream's input, positioned where the stream begins: a file (its length known, a
/// libvirt save image recognised by its header and read from the QEMU stream inside it, the
/// trailing vmdesc found at its end) or a pipe (the bytes before the stream skipped). Record
/// offsets count from the start of the input, so a reader of it takes <see cref="StartOffset"/>
/// as its <see cref="MigrationReaderOptions.StartOffset"/>.
/// </summary>
public sealed class MigrationInput : IDisposable
{
    private MigrationInput(Stream stream, FileStream? file, long? length, long startOffset, LibvirtSaveImage? libvirtImage)
    {
        Stream = stream;
        File = file;
        Length = length;
        StartOffset = startOffset;
        LibvirtImage = libvirtImage;
    }

    /// <summary>The bytes, positioned at <see cref="StartOffset"/> when opened; disposed with this input.</summary>
    public Stream Stream { get; }

    /// <summary>The file, when the input is one (it can be mapped, and read again at any offset); null for a pipe.</summary>
    public FileStream? File { get; }

    /// <summary>The file's length in bytes when opened; null for a pipe.</summary>
    public long? Length { get; }

    /// <summary>Where the migration stream begins: the offset given, the end of a libvirt save image's header and XML, or 0.</summary>
    public long StartOffset { get; }

    /// <summary>The libvirt save image header the file starts with, when no start offset was given and it has one.</summary>
    public LibvirtSaveImage? LibvirtImage { get; }

    /// <summary>
    /// Opens the file at <paramref name="path"/> for sequential reading, positioned where its stream
    /// begins: at <paramref name="startOffset"/> (QEMU's <c>file:PATH,offset=N</c>) when given;
    /// otherwise after the header of a libvirt save image, or at 0.
    /// </summary>
    /// <exception cref="MigrationInputException">
    /// The libvirt save image's stream is compressed (it cannot be read in place), or the start
    /// offset is beyond the end of the file.
    /// </exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static MigrationInput OpenFile(string path, long? startOffset = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromFile(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), startOffset);
    }

    /// <summary>As <see cref="OpenFile"/>, for a file already open for reading; the input owns it (and disposes it if this throws).</summary>
    public static MigrationInput FromFile(FileStream file, long? startOffset = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        try
        {
            ArgumentOutOfRangeException.ThrowIfNegative(startOffset ?? 0, nameof(startOffset));
            LibvirtSaveImage? image = startOffset is null ? LibvirtSaveImage.TryRead(file) : null;
            if (image is { IsCompressed: true } compressed)
            {
                throw new MigrationInputException(MigrationInputProblem.CompressedSaveImage,
                    new MigrationError(0, "libvirt save image", MigrationRules.Unsupported,
                        $"a libvirt save image whose QEMU stream is {compressed.FormatName}-compressed cannot be read in place; decompress it first " +
                        $"(tail -c +{compressed.StreamOffset + 1} FILE | {compressed.FormatName} -dc)"),
                    compressed.StreamOffset, file.Length, compressed);
            }

            var start = image?.StreamOffset ?? startOffset ?? 0;
            var length = file.Length;
            if (start > length)
            {
                throw new MigrationInputException(MigrationInputProblem.StartBeyondEnd,
                    new MigrationError(length, "file", MigrationRules.Truncated, $"the stream would begin at 0x{start:x}, but the file has 0x{length:x} bytes"),
                    start, length, image);
            }

            file.Seek(start, SeekOrigin.Begin);
            return new MigrationInput(file, file, length, start, image);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A pipe (or any stream read once, front to back) whose migration stream begins after
    /// <paramref name="startOffset"/> bytes, which are read and dropped. The input owns the pipe
    /// (and disposes it if this throws). A libvirt save image is not recognised on a pipe.
    /// </summary>
    /// <exception cref="MigrationInputException">The pipe ends before <paramref name="startOffset"/>.</exception>
    public static MigrationInput FromPipe(Stream pipe, long startOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        try
        {
            ArgumentOutOfRangeException.ThrowIfNegative(startOffset);
            var buffer = new byte[(int)Math.Min(64 << 10, Math.Max(1, startOffset))];
            var skipped = 0L;
            while (skipped < startOffset)
            {
                var read = pipe.Read(buffer, 0, (int)Math.Min(buffer.Length, startOffset - skipped));
                if (read == 0)
                {
                    throw new MigrationInputException(MigrationInputProblem.StartBeyondEnd,
                        new MigrationError(skipped, "input", MigrationRules.Truncated,
                            $"the input ended after 0x{skipped:x} bytes, before the stream's start at 0x{startOffset:x}"),
                        startOffset, skipped, null);
                }

                skipped += read;
            }

            return new MigrationInput(pipe, null, null, startOffset, null);
        }
        catch
        {
            pipe.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The vmdesc at the end of a complete stream file (see <see cref="VmDescriptionDocument.ReadTrailing"/>):
    /// null for a pipe, which brings its vmdesc only at its end, or a file without one. When the
    /// file ends with one that cannot be decoded, null with <paramref name="undecodable"/> naming
    /// the bad byte's file offset and the rule. The position is left where it was.
    /// </summary>
    public VmDescriptionDocument? ReadTrailingVmDescription(out MigrationError? undecodable)
    {
        undecodable = null;
        return File is null ? null : VmDescriptionDocument.ReadTrailing(File, out undecodable);
    }

    /// <summary>Closes the stream.</summary>
    public void Dispose() => Stream.Dispose();
}
