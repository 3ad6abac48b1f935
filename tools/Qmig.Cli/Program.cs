using System.CommandLine;
using Qmig.Cli.Commands;

namespace Qmig.Cli;

/// <summary>
/// The <c>qmig</c> entry point. Each verb lives in its own Commands/*Command.cs and is only added
/// here, so verbs can be added independently. <see cref="Run"/> takes the writers as arguments so
/// tests can drive the real command tree in-process.
/// </summary>
internal static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("qmig: inspect, check and take apart QEMU live-migration streams, and print the protocol's state machines.");
        root.Subcommands.Add(DumpCommand.Create());
        root.Subcommands.Add(StatsCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(ExtractCommand.Create());
        root.Subcommands.Add(DiffCommand.Create());
        root.Subcommands.Add(MachineCommand.Create());
        root.Subcommands.Add(ReceiveCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ProxyCommand.Create());
        return root;
    }

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var parseResult = CreateRootCommand().Parse(args);

        // System.CommandLine answers a usage error with exit code 1; ours is 2 (1 means "the stream is invalid").
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                error.WriteLine("qmig: " + parseError.Message);
            }

            error.WriteLine("Try 'qmig --help'.");
            return ExitCodes.UsageOrIo;
        }

        return parseResult.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
