using System.CommandLine;
using Qmig.Cli.Diff;
using Qmig.Wire.Comparison;
using Qmig.Wire.Extraction;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>qmig diff A B</c>: which devices, fields and RAM pages differ between two streams, e.g. the
/// source's and the destination's saved state. Each stream is extracted into a temporary
/// directory (RAM images, as <c>extract</c> writes them) and the images are compared in chunks,
/// so neither stream is held in memory.
/// </summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var a = CommonOptions.Input("a");
        var b = CommonOptions.Input("b");
        var format = CommonOptions.Format("text", "json");
        var vmdescA = new Option<string?>("--vmdesc-a") { Description = "The vmdesc JSON for A when A has none of its own" };
        var vmdescB = new Option<string?>("--vmdesc-b") { Description = "The vmdesc JSON for B when B has none of its own" };
        var pageSize = CommonOptions.PageSize();
        var command = new Command("diff",
            "Compare the device state and final RAM of two streams. Exit 0 when equal, 1 when they differ, " +
            "2 on a usage or I/O error or when a stream cannot be read, 3 when a stream uses a feature not supported yet")
        {
            a, b, format, vmdescA, vmdescB, pageSize,
        };
        command.SetAction(result => Cli.Guard(result.InvocationConfiguration.Error, () =>
        {
            var options = new DiffOptions(result.GetValue(a)!, result.GetValue(b)!, result.GetValue(format) == "json",
                result.GetValue(vmdescA), result.GetValue(vmdescB), result.GetValue(pageSize));
            return Run(options, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error);
        }));
        return command;
    }

    public static int Run(DiffOptions options, TextWriter output, TextWriter errors)
    {
        var scratch = Directory.CreateTempSubdirectory("qmig-diff-");
        try
        {
            var (left, leftCode) = Extract(options.A, options.VmdescA, options.PageSize, Path.Combine(scratch.FullName, "a"), errors);
            if (leftCode != ExitCodes.Ok)
            {
                return leftCode;
            }

            var (right, rightCode) = Extract(options.B, options.VmdescB, options.PageSize, Path.Combine(scratch.FullName, "b"), errors);
            if (rightCode != ExitCodes.Ok)
            {
                return rightCode;
            }

            var report = new DiffReport(options.A, options.B, DeviceStateComparer.Compare(left!.State, right!.State), RamImageComparer.Compare(left, right));
            if (options.Json)
            {
                DiffJsonRenderer.Write(report, output);
            }
            else
            {
                DiffTextRenderer.Write(report, output);
            }

            return report.IsEqual ? ExitCodes.Ok : ExitCodes.Invalid;
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A stream that cannot be read to its end cannot be compared: exit 2 (3 if it is a feature
    /// not supported yet), never 1, which means "they differ" here.
    /// </summary>
    private static (StreamExtraction? Extraction, int Code) Extract(string path, string? vmdesc, int pageSize, string directory, TextWriter errors)
    {
        using var file = InputFile.Open(path);
        StreamExtraction extraction;
        using (var progress = Progress.ForInput(file))
        {
            extraction = StreamExtraction.Run(file.Input, directory, new StreamExtractionOptions
            {
                VmDescription = vmdesc is null ? null : file.FindVmDescription(vmdesc, out _),
                TargetPageSize = pageSize,
                Progress = progress.Report,
            });
        }

        var readerCode = StreamRun.Report(extraction.Error, file.Name, errors);
        if (readerCode != ExitCodes.Ok)
        {
            return (null, readerCode == ExitCodes.Unsupported ? ExitCodes.Unsupported : ExitCodes.UsageOrIo);
        }

        if (extraction.Description is null)
        {
            errors.WriteLine($"qmig: {file.Name}: no vmdesc (give one with --vmdesc-a/--vmdesc-b): its devices are compared as raw bodies");
        }

        foreach (var problem in extraction.State.Problems)
        {
            errors.WriteLine(problem.Format(file.Name) + " (compared as raw bytes)");
        }

        return (extraction, ExitCodes.Ok);
    }
}
