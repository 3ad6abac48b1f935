using Qmig.Wire.IO;
using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>A stream named on the command line: a file, or '-' for standard input, opened as a <see cref="MigrationInput"/>.</summary>
internal sealed class InputFile : IDisposable
{
    private InputFile(string name, MigrationInput input)
    {
        Name = name;
        Input = input;
    }

    public string Name { get; }

    public MigrationInput Input { get; }

    public Stream Stream => Input.Stream;

    public long? Length => Input.Length;

    /// <summary>Where the migration stream begins (<c>--offset</c>, or inside a libvirt save image); the input is positioned there.</summary>
    public long StartOffset => Input.StartOffset;

    public void Dispose() => Input.Dispose();

    /// <summary>
    /// Opens <paramref name="name"/> positioned at <paramref name="startOffset"/> (standard input
    /// skips that many bytes). Without one, a libvirt save image is recognised by its header and
    /// opened at the QEMU stream inside it, which is said on stderr.
    /// </summary>
    public static InputFile Open(string name, long? startOffset = null)
    {
        if (name == "-")
        {
            try
            {
                return new InputFile("<stdin>", MigrationInput.FromPipe(Console.OpenStandardInput(1 << 20), startOffset ?? 0));
            }
            catch (MigrationInputException e)
            {
                throw new IOException($"<stdin>: ended before --offset was reached ({e.StartOffset - e.Length} bytes short)", e);
            }
        }

        MigrationInput input;
        try
        {
            input = MigrationInput.OpenFile(name, startOffset);
        }
        catch (MigrationInputException e) when (e is { Problem: MigrationInputProblem.CompressedSaveImage, LibvirtImage: { } image })
        {
            throw new UnsupportedInputException(
                $"{name}: a libvirt save image whose QEMU stream is {image.FormatName}-compressed; decompress it and read standard input, " +
                $"e.g. tail -c +{image.StreamOffset + 1} {name} | {image.FormatName} -dc | qmig stats -");
        }
        catch (MigrationInputException e)
        {
            if (e.LibvirtImage is { } truncated)
            {
                SayLibvirtImage(name, truncated);
            }

            throw new IOException($"{name}: --offset 0x{e.StartOffset:x} is beyond the end of the file (0x{e.Length:x} bytes)", e);
        }

        if (input.LibvirtImage is { } found)
        {
            SayLibvirtImage(name, found);
        }

        return new InputFile(name, input);
    }

    private static void SayLibvirtImage(string name, LibvirtSaveImage image) =>
        Console.Error.WriteLine($"qmig: {name}: a libvirt save image{(image.Partial ? " that libvirt had not finished writing" : "")}; its QEMU stream begins at 0x{image.StreamOffset:x} (--offset)");

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

        return Input.ReadTrailingVmDescription(out undecodable);
    }
}
