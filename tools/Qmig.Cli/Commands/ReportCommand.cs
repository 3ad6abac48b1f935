using System.CommandLine;
using System.Text.Json;
using Qmig.Cli.Report;
using Qmig.Wire.Analysis;

namespace Qmig.Cli.Commands;

/// <summary><c>qmig report FILE… -o report.html</c>: one offline HTML page of charts for streams and postcopy stats.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("FILE") { Description = "Migration streams to draw", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string>("--output", "-o") { Description = "The HTML file to write", Required = true };
        var stats = new Option<string[]>("--stats") { Description = "A postcopy stats JSON (receive --stats, serve --stats, or any with those keys)", AllowMultipleArgumentsPerToken = true };
        var returnPath = new Option<string?>("--return-path") { Description = "A captured return path (destination to source) whose page requests to draw" };
        var pageSize = CommonOptions.PageSize();
        var command = new Command("report", "Write one self-contained HTML file with charts: rounds, block maps, devices, commands, postcopy timeline")
        {
            inputs, output, stats, returnPath, pageSize,
        };
        command.SetAction(result => Cli.Guard(result.InvocationConfiguration.Error, () =>
        {
            var errors = result.InvocationConfiguration.Error;
            var files = result.GetValue(inputs) ?? [];
            var statsFiles = result.GetValue(stats) ?? [];
            var capture = result.GetValue(returnPath);
            if (files.Length == 0 && statsFiles.Length == 0 && capture is null)
            {
                errors.WriteLine("qmig: report needs a stream, --stats or --return-path");
                return ExitCodes.UsageOrIo;
            }

            var code = ExitCodes.Ok;
            var streams = new List<(string, StreamProfile)>();
            foreach (var name in files)
            {
                using var file = InputFile.Open(name, 0);
                var options = StreamReaderOptions.For(file, false, null, null, result.GetValue(pageSize), out var failed);
                if (options is null)
                {
                    return failed;
                }

                var profiler = new StreamProfiler();
                var run = StreamRun.Execute(file, options, ref profiler, out var reader, errors);
                code = Math.Max(code, run);
                streams.Add((file.Name, profiler.Finish(reader)));
            }

            var postcopy = new List<PostcopyProfile>();
            foreach (var name in statsFiles)
            {
                var profile = new PostcopyProfile(name);
                JsonDocument document;
                try
                {
                    document = JsonDocument.Parse(File.ReadAllBytes(name));
                }
                catch (JsonException e)
                {
                    errors.WriteLine($"qmig: {name}: not a stats JSON file: {e.Message}");
                    return ExitCodes.UsageOrIo;
                }

                using (document)
                {
                    profile.AddStats(document.RootElement);
                }

                postcopy.Add(profile);
            }

            if (capture is not null)
            {
                if (postcopy.Count == 0)
                {
                    postcopy.Add(new PostcopyProfile(capture));
                }

                using var stream = File.OpenRead(capture);
                if (postcopy[^1].AddReturnPath(stream, result.GetValue(pageSize)) is { } error)
                {
                    errors.WriteLine(error.Format(capture));
                    code = Math.Max(code, ExitCodes.Invalid);
                }
            }

            var path = result.GetValue(output)!;
            using (var html = File.Create(path))
            {
                ReportHtml.Write(html, streams, postcopy);
            }

            errors.WriteLine($"qmig: wrote {path}");
            return code;
        }));
        return command;
    }
}
