using System.CommandLine;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>qmig extract FILE -o DIR</c>: DIR/desc.json (the vmdesc), and DIR/ram/&lt;block&gt;, one image
/// per RAM block named as analyze-migration.py -x names them.
/// </summary>
public static class ExtractCommand
{
    public static Command Create()
    {
        var input = CommonOptions.Input();
        var output = new Option<string>("--output", "-o") { Description = "Directory to write into (created if missing)", Required = true };
        var vmdesc = CommonOptions.VmDesc();
        var pageSize = CommonOptions.PageSize();
        var command = new Command("extract", "Write the RAM images and the device description of a stream") { input, output, vmdesc, pageSize };
        command.SetAction(result => Cli.Guard(() =>
        {
            using var file = InputFile.Open(result.GetValue(input)!);
            var directory = result.GetValue(output)!;
            Directory.CreateDirectory(directory);
            var description = file.FindVmDescription(result.GetValue(vmdesc));
            var options = new MigrationReaderOptions
            {
                VmDescription = description,
                TargetPageSize = description?.PageSize ?? result.GetValue(pageSize),
            };
            var extracted = new ExtractResult();
            int code;
            using (var images = new RamImageSet(Path.Combine(directory, "ram"), options.TargetPageSize))
            {
                var visitor = new ExtractVisitor(images, extracted);
                code = StreamRun.Execute(file, options, ref visitor, out _);
            }

            var json = extracted.VmDescriptionJson ?? description?.Json;
            if (json is not null)
            {
                File.WriteAllBytes(Path.Combine(directory, "desc.json"), json);
            }

            return code;
        }));
        return command;
    }
}
