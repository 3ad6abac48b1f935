using System.CommandLine;
using Qmig.Wire.Analysis;
using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>
/// <c>--preempt-channel --blocks-from MAIN</c>: the input is a postcopy-preempt connection, whose
/// bare RAM records name blocks that only the main stream's MEM_SIZE list announces; the main
/// stream is read first for that list and the page size.
/// </summary>
internal static class PreemptChannel
{
    public static Option<bool> Flag() => new("--preempt-channel")
    {
        Description = "The input is a captured postcopy-preempt channel (bare RAM records); needs --blocks-from",
    };

    public static Option<string?> BlocksFrom() => new("--blocks-from")
    {
        Description = "The main stream of the same migration, whose block list the preempt channel's records address",
    };

    /// <summary>
    /// Reader options for the preempt channel, or null after reporting why there are none (exit
    /// code in <paramref name="exitCode"/>). A main stream that breaks off after its block list
    /// (a capture cut short) still serves.
    /// </summary>
    public static MigrationReaderOptions? Options(string? mainPath, int defaultPageSize, out int exitCode)
    {
        exitCode = ExitCodes.Ok;
        if (mainPath is null)
        {
            Console.Error.WriteLine("qmig: --preempt-channel needs --blocks-from MAIN (the main stream that announces the RAM blocks)");
            exitCode = ExitCodes.UsageOrIo;
            return null;
        }

        using var main = InputFile.Open(mainPath);
        var reader = new MigrationStreamReader(new MigrationReaderOptions { TargetPageSize = defaultPageSize });
        var visitor = new StreamCountingVisitor(new StreamCounts());
        var error = MigrationStreamDriver.Read(main.Stream, reader, ref visitor);
        if (reader.Blocks.Count == 0)
        {
            Console.Error.WriteLine(error is null
                ? $"qmig: {main.Name}: the main stream announces no RAM blocks"
                : $"qmig: {main.Name}: no RAM block list before: {error.Format(main.Name)}");
            exitCode = error?.IsUnsupported == true ? ExitCodes.Unsupported : ExitCodes.Invalid;
            return null;
        }

        return reader.PreemptChannelOptions();
    }
}
