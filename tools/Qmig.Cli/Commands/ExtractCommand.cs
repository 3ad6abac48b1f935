using System.CommandLine;
using Qmig.Wire.Extraction;
using Qmig.Wire.PythonJson;
using Qmig.Wire.Streaming;
using Qmig.Wire.VmState;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>qmig extract FILE -o DIR</c>: DIR/desc.json and DIR/state.json byte for byte as
/// analyze-migration.py -x of the QEMU that wrote the vmdesc writes them (7.2 or 10.0, or as
/// <c>--analyzer-shape</c> says), and DIR/ram/&lt;block&gt;, one image per RAM block named as the
/// script names them.
/// </summary>
internal static class ExtractCommand
{
    public static Command Create()
    {
        var input = CommonOptions.Input();
        var output = new Option<string>("--output", "-o") { Description = "Directory to write into (created if missing)", Required = true };
        var vmdesc = CommonOptions.VmDesc();
        var pageSize = CommonOptions.PageSize();
        var offset = CommonOptions.Offset();
        var preempt = new Option<string?>("--preempt")
        {
            Description = "The postcopy-preempt channel captured beside FILE (bare RAM records): its pages are applied after the main stream's",
        };
        var shape = new Option<string?>("--analyzer-shape")
        {
            Description = "Write state.json as QEMU 7.2's or 10.0's analyze-migration.py does (they differ in arrays of structs and NULL pointers); " +
                "default: 10 when the vmdesc describes the configuration section (QEMU 10.0 does, 7.2 does not), else 7.2",
        };
        shape.AcceptOnlyFromAmong("7.2", "10");
        var command = new Command("extract",
            "Write the RAM images, desc.json and state.json (as analyze-migration.py -x does) of a stream. " +
            "Without a vmdesc (none in the stream, no --vmdesc) only the RAM images are written and the exit code is 2; " +
            "with one that cannot be decoded, only the RAM images are written and the exit code is 1.")
        {
            input, output, vmdesc, pageSize, offset, preempt, shape,
        };
        command.SetAction(result => Cli.Guard(result.InvocationConfiguration.Error, () =>
            Run(result.GetValue(input)!, result.GetValue(output)!, result.GetValue(vmdesc), result.GetValue(pageSize), result.InvocationConfiguration.Error,
                result.GetValue(preempt), result.GetValue(offset), ParseShape(result.GetValue(shape)))));
        return command;
    }

    private static AnalyzerShape? ParseShape(string? name) => AnalyzerShapes.TryParse(name, out var shape) ? shape : null;

    /// <summary>
    /// Exit code: the stream's own error if it has one (1 invalid, 3 unsupported; a vmdesc that
    /// cannot be decoded is 1, with the RAM images only); else 1 when a device body does not match
    /// its vmdesc (state.json is still written, that device partly); else 2 when there is no
    /// vmdesc at all (RAM images only); else 0.
    /// </summary>
    public static int Run(string inputPath, string directory, string? vmdescPath, int pageSize, TextWriter errors, string? preemptPath = null, long? startOffset = null,
        AnalyzerShape? shape = null)
    {
        using var file = InputFile.Open(inputPath, startOffset);
        using var preempt = preemptPath is null ? null : InputFile.Open(preemptPath);
        Directory.CreateDirectory(directory);
        StreamExtraction extraction;
        using (var progress = Progress.ForInput(file))
        using (var preemptProgress = preempt is null ? null : Progress.ForInput(preempt))
        {
            extraction = StreamExtraction.Run(file.Input, Path.Combine(directory, "ram"), new StreamExtractionOptions
            {
                VmDescription = vmdescPath is null ? null : file.FindVmDescription(vmdescPath, out _),
                TargetPageSize = pageSize,
                PreemptChannel = preempt?.Input,
                Shape = shape,
                Progress = progress.Report,
                PreemptChannelProgress = preemptProgress is null ? null : preemptProgress.Report,
            });
        }

        var code = StreamRun.Report(extraction, file, preempt, errors);
        if (extraction.DescriptionError is { } undecodable)
        {
            errors.WriteLine($"qmig: {file.Name}: state.json could not be decoded: the stream's vmdesc cannot be decoded " +
                $"({undecodable.Rule.Id} at 0x{undecodable.Offset:x}); neither state.json nor desc.json is written, the RAM images are");
            return code == ExitCodes.Ok ? ExitCodes.Invalid : code;
        }

        if (extraction.DescriptionJson is { } json)
        {
            code = Math.Max(code, WriteDescription(file.Name, json, Path.Combine(directory, "desc.json"), errors));
        }

        var state = extraction.State;
        if (extraction.Description is null)
        {
            errors.WriteLine($"qmig: {file.Name}: state.json needs a vmdesc and the stream has none " +
                "(postcopy, suppress-vmdesc or a cut-off capture): give one with --vmdesc FILE; the RAM images are written");
            return code == ExitCodes.Ok ? ExitCodes.UsageOrIo : code;
        }

        using (var stateFile = new FileStream(Path.Combine(directory, "state.json"), FileMode.Create, FileAccess.Write))
        {
            PythonJsonWriter.Write(stateFile, state.Root);
        }

        foreach (var error in state.Problems)
        {
            errors.WriteLine(error.Format(file.Name));
        }

        return code == ExitCodes.Ok && state.Problems.Count > 0 ? ExitCodes.Invalid : code;
    }

    /// <summary>
    /// The script re-encodes the vmdesc it parsed; so do we. JSON Python would refuse is written
    /// as found, with an error.
    /// </summary>
    private static int WriteDescription(string name, byte[] json, string path, TextWriter errors)
    {
        if (!PythonJsonParser.TryParse(json, out var value, out var problem))
        {
            File.WriteAllBytes(path, json);
            errors.WriteLine($"{name}: error {MigrationRules.VmDescriptionSyntax.Id}: the vmdesc is not JSON Python's json module reads ({problem}); desc.json holds it as found");
            return ExitCodes.Invalid;
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        PythonJsonWriter.Write(stream, value!);
        return ExitCodes.Ok;
    }
}
