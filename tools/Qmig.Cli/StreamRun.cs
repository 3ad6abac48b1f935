using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>Runs a visitor over an input and turns the outcome into qmig's exit code and error line.</summary>
public static class StreamRun
{
    public static int Execute<TVisitor>(InputFile input, MigrationReaderOptions options, ref TVisitor visitor, out MigrationStreamReader reader, TextWriter errors)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        reader = new MigrationStreamReader(options);
        using var progress = Progress.ForInput(input);
        // A file is mapped and parsed in place; stdin is read in large chunks.
        var error = input.Stream is FileStream file
            ? MigrationStreamDriver.ReadFile(file, reader, ref visitor, progress.Report)
            : MigrationStreamDriver.Read(input.Stream, reader, ref visitor, progress: progress.Report);
        if (error is null)
        {
            return ExitCodes.Ok;
        }

        errors.WriteLine(error.Format(input.Name));
        return error.IsUnsupported ? ExitCodes.Unsupported : ExitCodes.Invalid;
    }
}
