using Qmig.Cli.Commands;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;
using Qmig.Wire.VmState;

namespace Qmig.Cli;

/// <summary>
/// Reads one stream the way <c>extract</c> does: RAM images under a directory, device bodies
/// collected, then decoded with the vmdesc. <c>diff</c> runs it once per stream.
/// </summary>
internal sealed class StreamExtraction
{
    private StreamExtraction(int readerExitCode, VmDescriptionDocument? description, byte[]? descriptionJson, MigrationState state,
        MigrationError? descriptionError, IReadOnlyList<(RamBlock Block, string Path)> images, int pageSize)
    {
        ReaderExitCode = readerExitCode;
        Description = description;
        DescriptionJson = descriptionJson;
        State = state;
        DescriptionError = descriptionError;
        Images = images;
        PageSize = pageSize;
    }

    /// <summary>0, or the exit code the stream reader's error calls for (already reported on stderr).</summary>
    public int ReaderExitCode { get; }

    /// <summary>The vmdesc the state was decoded with: --vmdesc, else the stream's own.</summary>
    public VmDescriptionDocument? Description { get; }

    /// <summary>The bytes of that vmdesc, for desc.json.</summary>
    public byte[]? DescriptionJson { get; }

    /// <summary>
    /// Every section and FULL body; decoded when <see cref="Description"/> is known, otherwise
    /// devices are "" and only their bodies can be compared.
    /// </summary>
    public MigrationState State { get; }

    /// <summary>Why the stream's own vmdesc could not be used: it cannot be decoded (QMIG1108, at the bad byte).</summary>
    public MigrationError? DescriptionError { get; }

    public IReadOnlyList<(RamBlock Block, string Path)> Images { get; }

    public int PageSize { get; }

    /// <param name="preemptChannel">
    /// The postcopy-preempt channel of the same migration, or null. Its pages are applied after the
    /// whole main stream: each page goes once in postcopy, on one channel or the other, and after the
    /// precopy pages it replaces, so the order within the two channels is all that matters.
    /// </param>
    /// <param name="shape">Whose analyze-migration.py state.json imitates; null chooses by the vmdesc.</param>
    public static StreamExtraction Run(InputFile file, string? vmdescPath, int defaultPageSize, string ramDirectory, TextWriter errors, InputFile? preemptChannel = null,
        AnalyzerShape? shape = null)
    {
        var given = file.FindVmDescription(vmdescPath, out var undecodable);
        var options = new MigrationReaderOptions
        {
            VmDescription = given,
            VmDescriptionError = undecodable,
            TargetPageSize = given?.PageSize ?? defaultPageSize,
            StartOffset = file.StartOffset,
        };
        var extracted = new ExtractResult();
        int code;
        List<(RamBlock, string)> images;
        // Read in chunks, not mapped: pages go from the read buffer straight into the images'
        // files (pwritev), and the buffer is reused only after they have.
        using (var set = new RamImageSet(ramDirectory, options.TargetPageSize, borrowPages: true))
        {
            var visitor = new ExtractVisitor(set, extracted);
            code = StreamRun.Execute(file, options, ref visitor, out var reader, errors, set.Flush);
            if (vmdescPath is null && reader.Error?.Rule == MigrationRules.VmDescriptionUndecodable)
            {
                undecodable = reader.Error;
            }

            if (preemptChannel is not null && code == ExitCodes.Ok)
            {
                var preemptVisitor = new ExtractVisitor(set, new ExtractResult());
                code = StreamRun.Execute(preemptChannel, reader.PreemptChannelOptions(), ref preemptVisitor, out _, errors, set.Flush);
            }

            set.Flush();
            images = set.Files.ToList();
        }

        // A vmdesc given on the command line wins; else the stream's own, which a pipe brings only at
        // its end (the reader has checked that it decodes before handing it over).
        var description = given;
        var json = vmdescPath is not null ? given?.Json : extracted.VmDescriptionJson ?? given?.Json;
        if (description is null && json is not null)
        {
            if (VmDescriptionDocument.TryParse(json, extracted.VmDescriptionOffset, out var streamed, out var error))
            {
                description = streamed;
            }
            else
            {
                undecodable ??= error;
            }
        }

        var state = extracted.State.Build(description, shape: shape);
        return new StreamExtraction(code, description, json, state, undecodable, images, options.TargetPageSize);
    }
}
