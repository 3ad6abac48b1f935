using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>Runs a visitor over an input and turns the outcome into qmig's exit code and error line.</summary>
internal static class StreamRun
{
    /// <param name="releasing">
    /// Null: a file is mapped and parsed in place, stdin read in large chunks. Otherwise the input
    /// is read in large chunks either way, and this runs before each chunk's bytes are reused (see
    /// <see cref="MigrationStreamDriver.Read{TVisitor}(System.IO.Stream, MigrationStreamReader, ref TVisitor, int, Action{long}?, Action?)"/>).
    /// </param>
    public static int Execute<TVisitor>(InputFile input, MigrationReaderOptions options, ref TVisitor visitor, out MigrationStreamReader reader, TextWriter errors, Action? releasing = null)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        reader = new MigrationStreamReader(options);
        using var progress = Progress.ForInput(input);
        var error = input.Stream is FileStream file && releasing is null
            ? MigrationStreamDriver.ReadFile(file, reader, ref visitor, progress.Report)
            : MigrationStreamDriver.Read(input.Stream, reader, ref visitor, progress: progress.Report, releasing: releasing);
        if (error is null)
        {
            return ExitCodes.Ok;
        }

        errors.WriteLine(error.Format(input.Name));
        return error.IsUnsupported ? ExitCodes.Unsupported : ExitCodes.Invalid;
    }
}
