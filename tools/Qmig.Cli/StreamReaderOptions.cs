using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>The reader options that dump, stats and check share for their input stream.</summary>
internal static class StreamReaderOptions
{
    /// <summary>
    /// For a preempt channel (<paramref name="preempt"/>): the blocks announced by the main stream
    /// at <paramref name="blocksFrom"/>; otherwise the stream's vmdesc (or the one given) and the page
    /// size. Null after reporting why there are none, with the exit code in <paramref name="exitCode"/>.
    /// </summary>
    public static MigrationReaderOptions? For(InputFile file, bool preempt, string? blocksFrom, string? vmdesc, int pageSize, out int exitCode)
    {
        if (preempt)
        {
            return PreemptChannel.Options(blocksFrom, pageSize, out exitCode);
        }

        exitCode = ExitCodes.Ok;
        return new MigrationReaderOptions
        {
            VmDescription = file.FindVmDescription(vmdesc, out var undecodable),
            VmDescriptionError = undecodable,
            TargetPageSize = pageSize,
            StartOffset = file.StartOffset,
        };
    }
}
