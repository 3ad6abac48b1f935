using Qmig.Wire.Streaming;

namespace Qmig.Wire.IO;

/// <summary>
/// A <see cref="MigrationInput"/> that cannot be read as a migration stream; carries what a caller
/// needs to word the problem its own way, and the problem as a <see cref="MigrationError"/>.
/// </summary>
public sealed class MigrationInputException : IOException
{
    /// <summary>An exception for <paramref name="problem"/>, whose message is <paramref name="error"/>'s.</summary>
    public MigrationInputException(MigrationInputProblem problem, MigrationError error, long startOffset, long length, LibvirtSaveImage? libvirtImage)
        : base(error.Message)
    {
        Problem = problem;
        Error = error;
        StartOffset = startOffset;
        Length = length;
        LibvirtImage = libvirtImage;
    }

    /// <summary>What is wrong.</summary>
    public MigrationInputProblem Problem { get; }

    /// <summary>The offset, record and rule of the problem (<see cref="MigrationRules.Unsupported"/> for a compressed image, else <see cref="MigrationRules.Truncated"/>).</summary>
    public MigrationError Error { get; }

    /// <summary>Where the stream was to begin.</summary>
    public long StartOffset { get; }

    /// <summary>The file's length, or for a pipe how many bytes it held.</summary>
    public long Length { get; }

    /// <summary>The libvirt save image header the file starts with, if it does.</summary>
    public LibvirtSaveImage? LibvirtImage { get; }
}
