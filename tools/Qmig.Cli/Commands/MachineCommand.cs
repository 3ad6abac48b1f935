using System.CommandLine;
using Qmig.Wire.Machines;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>qmig machine NAME [--format dot|mermaid]</c>: prints a state machine generated from
/// spec/machines. The text is a constant computed at build time, so what is printed is exactly the
/// table the runtime enforces. Machines come from the generated catalogs of the assemblies that
/// hold them (the protocol's in Qmig.Wire, the page machine in Qmig.Linux); a new spec file in
/// either shows up here without touching this verb.
/// </summary>
internal static class MachineCommand
{
    public const string Dot = "dot";
    public const string Mermaid = "mermaid";

    public static Command Create()
    {
        var name = new Argument<string>("name")
        {
            Description = "The machine's spec id: " + KnownNames() + ".",
        };
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output format.",
            DefaultValueFactory = _ => Dot,
        };
        format.AcceptOnlyFromAmong(Dot, Mermaid);

        var command = new Command("machine", "Print a protocol state machine as Graphviz DOT or Mermaid.")
        {
            name,
            format,
        };
        command.SetAction(parseResult => Run(
            parseResult.GetValue(name) ?? "",
            parseResult.GetValue(format) ?? Dot,
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static readonly MachineDescription[] Machines = [.. MachineCatalog.All.Concat(Linux.Machines.MachineCatalog.All).OrderBy(m => m.Name, StringComparer.Ordinal)];

    public static int Run(string name, string format, TextWriter output, TextWriter error)
    {
        var machine = MachineCatalog.Find(name) ?? Linux.Machines.MachineCatalog.Find(name);
        if (machine is null)
        {
            error.WriteLine("qmig machine: unknown machine '" + name + "'; known machines: " + KnownNames());
            return ExitCodes.UsageOrIo;
        }

        output.WriteLine(format == Mermaid ? machine.Mermaid : machine.Dot);
        return ExitCodes.Ok;
    }

    private static string KnownNames() => string.Join(", ", Machines.Select(m => m.Name));
}
