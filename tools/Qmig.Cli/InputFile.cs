using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>A stream named on the command line: a file, or '-' for standard input.</summary>
public sealed class InputFile : IDisposable
{
    private InputFile(string name, Stream stream, long? length)
    {
        Name = name;
        Stream = stream;
        Length = length;
    }

    public string Name { get; }

    public Stream Stream { get; }

    public long? Length { get; }

    public bool IsFile => Name != "<stdin>";

    public void Dispose() => Stream.Dispose();

    public static InputFile Open(string name)
    {
        if (name == "-")
        {
            return new InputFile("<stdin>", Console.OpenStandardInput(1 << 20), null);
        }

        var stream = new FileStream(name, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return new InputFile(name, stream, stream.Length);
    }

    /// <summary>
    /// The vmdesc that makes device bodies exact: given with --vmdesc (a JSON file), or found at
    /// the end of a complete stream file. A live stream without one falls back to footers.
    /// </summary>
    public VmDescriptionDocument? FindVmDescription(string? vmdescPath)
    {
        if (vmdescPath is not null)
        {
            return VmDescriptionDocument.Parse(File.ReadAllBytes(vmdescPath));
        }

        if (!IsFile)
        {
            return null;
        }

        var at = VmDescriptionDocument.LocateInFile(Stream, 64 << 20);
        VmDescriptionDocument? found = null;
        if (at is long offset)
        {
            var json = new byte[Stream.Length - (offset + 6)];
            Stream.Seek(offset + 6, SeekOrigin.Begin);
            Stream.ReadExactly(json);
            found = VmDescriptionDocument.Parse(json);
        }

        Stream.Seek(0, SeekOrigin.Begin);
        return found;
    }
}
