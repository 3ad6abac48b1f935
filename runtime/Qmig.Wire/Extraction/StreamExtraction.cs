using Qmig.Wire.IO;
using Qmig.Wire.Streaming;
using Qmig.Wire.VmState;

namespace Qmig.Wire.Extraction;

/// <summary>
/// One stream taken apart: the final content of each RAM block in an image file under a directory
/// (<see cref="RamImageSet"/>), every device section collected, then decoded with the vmdesc
/// (<see cref="MigrationStateCollector"/>), as analyze-migration.py -x does. A stream that breaks a
/// rule is read up to that point; <see cref="Error"/> says where and why, and what was read before
/// it is kept.
/// </summary>
public sealed class StreamExtraction
{
    private StreamExtraction(MigrationError? error, bool errorInPreemptChannel, VmDescriptionDocument? description, byte[]? descriptionJson,
        MigrationState state, MigrationError? descriptionError, IReadOnlyList<(RamBlock Block, string Path)> images, int targetPageSize)
    {
        Error = error;
        ErrorInPreemptChannel = errorInPreemptChannel;
        Description = description;
        DescriptionJson = descriptionJson;
        State = state;
        DescriptionError = descriptionError;
        Images = images;
        TargetPageSize = targetPageSize;
    }

    /// <summary>
    /// Why the stream (or the preempt channel, see <see cref="ErrorInPreemptChannel"/>) could not be
    /// read to its end: offset, record and rule. Null when both were read completely.
    /// </summary>
    public MigrationError? Error { get; }

    /// <summary><see cref="Error"/> is the preempt channel's; the main stream was read completely.</summary>
    public bool ErrorInPreemptChannel { get; }

    /// <summary>The vmdesc the state was decoded with: the one given, else the stream's own; null when there is neither.</summary>
    public VmDescriptionDocument? Description { get; }

    /// <summary>The bytes of that vmdesc as found (or the undecodable bytes of the stream's own, see <see cref="DescriptionError"/>).</summary>
    public byte[]? DescriptionJson { get; }

    /// <summary>
    /// Every section and FULL body; decoded when <see cref="Description"/> is known, otherwise
    /// devices are "" and only their bodies can be compared.
    /// </summary>
    public MigrationState State { get; }

    /// <summary>Why the stream's own vmdesc could not be used: it cannot be decoded (QMIG1108, at the bad byte).</summary>
    public MigrationError? DescriptionError { get; }

    /// <summary>Each RAM block and the path of its image file, in the order the stream announced them.</summary>
    public IReadOnlyList<(RamBlock Block, string Path)> Images { get; }

    /// <summary>The target page size the stream was read with.</summary>
    public int TargetPageSize { get; }

    /// <summary>
    /// Reads <paramref name="input"/> from its position to its end (then the preempt channel, if
    /// one is given and the main stream was read completely), writing one image per RAM block into
    /// <paramref name="ramDirectory"/>. Pages go from the read buffer straight into the image files
    /// (pwritev), and the buffer is reused only after they have.
    /// </summary>
    /// <exception cref="IOException">An input cannot be read, or an image cannot be written.</exception>
    public static StreamExtraction Run(MigrationInput input, string ramDirectory, StreamExtractionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(ramDirectory);
        options ??= new StreamExtractionOptions();
        var given = options.VmDescription;
        MigrationError? undecodable = null;
        var found = given ?? input.ReadTrailingVmDescription(out undecodable);
        var readerOptions = new MigrationReaderOptions
        {
            VmDescription = found,
            VmDescriptionError = undecodable,
            TargetPageSize = found?.PageSize ?? options.TargetPageSize,
            StartOffset = input.StartOffset,
        };
        var collected = new StreamExtractionVisitor.Collected();
        MigrationError? error;
        var inPreemptChannel = false;
        List<(RamBlock, string)> images;
        // Read in chunks, not mapped: pages go from the read buffer straight into the images'
        // files (pwritev), and the buffer is reused only after they have.
        using (var set = new RamImageSet(ramDirectory, readerOptions.TargetPageSize, borrowPages: true))
        {
            var visitor = new StreamExtractionVisitor(set, collected);
            var reader = new MigrationStreamReader(readerOptions);
            error = ReadInto(input.Stream, reader, ref visitor, options.Progress, set);
            if (given is null && error?.Rule == MigrationRules.VmDescriptionUndecodable)
            {
                undecodable = error;
            }

            if (options.PreemptChannel is { } preempt && error is null)
            {
                var preemptVisitor = new StreamExtractionVisitor(set, new StreamExtractionVisitor.Collected());
                var preemptReader = new MigrationStreamReader(reader.PreemptChannelOptions());
                error = ReadInto(preempt.Stream, preemptReader, ref preemptVisitor, options.PreemptChannelProgress, set);
                inPreemptChannel = error is not null;
            }

            set.Flush();
            images = set.Files.ToList();
        }

        // A vmdesc given wins; else the stream's own, which a pipe brings only at its end (the
        // reader has checked that it decodes before handing it over).
        var description = found;
        var json = given is not null ? given.Json : collected.VmDescriptionJson ?? found?.Json;
        if (description is null && json is not null)
        {
            if (VmDescriptionDocument.TryParse(json, collected.VmDescriptionOffset, out var streamed, out var decodeError))
            {
                description = streamed;
            }
            else
            {
                undecodable ??= decodeError;
            }
        }

        var state = collected.State.Build(description, shape: options.Shape);
        return new StreamExtraction(error, inPreemptChannel, description, json, state, undecodable, images, readerOptions.TargetPageSize);
    }

    /// <summary>
    /// The driver's read of one channel. A page record the reader framed but the images cannot decode
    /// (a compressed page that does not inflate) ends the read as the reader's own errors do.
    /// </summary>
    private static MigrationError? ReadInto(Stream stream, MigrationStreamReader reader, ref StreamExtractionVisitor visitor, Action<long>? progress, RamImageSet set)
    {
        try
        {
            return MigrationStreamDriver.Read(stream, reader, ref visitor, progress: progress, releasing: set.Flush);
        }
        catch (MigrationFormatException e)
        {
            return e.Error;
        }
    }
}
