using Xunit;

namespace Qmig.Cli.Tests;

public class MachineCommandTests
{
    [Fact]
    public void Page_as_dot_prints_exactly_the_four_legal_transitions()
    {
        var (exitCode, output, error) = QmigProcess.Run("machine", "page", "--format", "dot");

        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
        var edges = output.Split('\n').Where(line => line.Contains("->", StringComparison.Ordinal)).Select(line => line.Trim());
        Assert.Equal(
            new[]
            {
                "\"missing\" -> \"requested\" [label=\"fault\"];",
                "\"missing\" -> \"received\" [label=\"place\"];",
                "\"requested\" -> \"received\" [label=\"place\"];",
                "\"received\" -> \"missing\" [label=\"discard\"];",
            },
            edges);
        Assert.StartsWith("digraph page {", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Mermaid_format_prints_a_state_diagram()
    {
        var (exitCode, output, _) = Run("machine", "postcopy", "--format", "mermaid");

        Assert.Equal(0, exitCode);
        Assert.StartsWith("stateDiagram-v2\n    [*] --> None\n", output, StringComparison.Ordinal);
        Assert.Contains("    Listening --> Running : run\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_machine_exits_2_and_lists_the_known_ones()
    {
        var (exitCode, output, error) = Run("machine", "door");

        Assert.Equal(2, exitCode);
        Assert.Equal("", output);
        Assert.Contains("unknown machine 'door'", error, StringComparison.Ordinal);
        Assert.Contains("known machines: migration_status_destination, migration_status_source, page, postcopy", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_format_is_a_usage_error()
    {
        var (exitCode, output, error) = Run("machine", "page", "--format", "svg");

        Assert.Equal(2, exitCode);
        Assert.Equal("", output);
        Assert.Contains("'svg'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_format_defaults_to_dot_and_names_accept_dashes()
    {
        var (exitCode, output, _) = Run("machine", "migration-status-destination");

        Assert.Equal(0, exitCode);
        Assert.StartsWith("digraph migration_status_destination {", output, StringComparison.Ordinal);
    }

    // In-process, through the same command tree as Main.
    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = Program.Run(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }
}
