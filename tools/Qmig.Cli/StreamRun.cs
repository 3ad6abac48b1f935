using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>Runs a visitor over an input and turns the outcome into qmig's exit code and error line.</summary>
internal static class StreamRun
{
    /// <summary>A file is mapped and parsed in place, stdin read in large chunks.</summary>
    public static int Execute<TVisitor>(InputFile input, MigrationReaderOptions options, ref TVisitor visitor, out MigrationStreamReader reader, TextWriter errors)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        reader = new MigrationStreamReader(options);
        using var progress = Progress.ForInput(input);
        var error = input.Input.File is { } file
            ? MigrationStreamDriver.ReadFile(file, reader, ref visitor, progress.Report)
            : MigrationStreamDriver.Read(input.Stream, reader, ref visitor, progress: progress.Report);
        return Report(error, input.Name, errors);
    }

    /// <summary>A reader's error as qmig prints it (<c>FILE:0xOFFSET: error QMIGnnnn: ...</c>), and its exit code: 0 without one, 3 unsupported, else 1.</summary>
    public static int Report(MigrationError? error, string name, TextWriter errors)
    {
        if (error is null)
        {
            return ExitCodes.Ok;
        }

        errors.WriteLine(error.Format(name));
        return error.IsUnsupported ? ExitCodes.Unsupported : ExitCodes.Invalid;
    }

    /// <summary>An extraction's reader error, reported against the input it came from (the main stream or the preempt channel).</summary>
    public static int Report(StreamExtraction extraction, InputFile main, InputFile? preemptChannel, TextWriter errors) =>
        Report(extraction.Error, extraction.ErrorInPreemptChannel ? preemptChannel!.Name : main.Name, errors);
}
