using System.CommandLine;
using Qmig.Cli;
using Qmig.Cli.Commands;

var root = new RootCommand("qmig: inspect, check and take apart QEMU live-migration streams");
root.Subcommands.Add(DumpCommand.Create());
root.Subcommands.Add(StatsCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(ExtractCommand.Create());
root.Subcommands.Add(DiffCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"qmig: {error.Message}");
    }

    return ExitCodes.UsageOrIo;
}

return parsed.Invoke();
