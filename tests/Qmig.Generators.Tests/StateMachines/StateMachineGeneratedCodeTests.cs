using Microsoft.CodeAnalysis;
using Qmig.Generators.StateMachines;
using Xunit;

namespace Qmig.Generators.Tests.StateMachines;

/// <summary>The real spec files: no diagnostics, and the generated C# compiles cleanly.</summary>
public class StateMachineGeneratedCodeTests
{
    // Uses the generated API the way the runtime will, so a change of shape fails here first.
    private const string Consumer = """
        using Qmig.Wire.Machines;

        public static class Consumer
        {
            public static bool Page()
            {
                var state = PageMachine.Initial;
                return PageMachine.TryFire(ref state, PageMachine.Trigger.Fault)
                    && PageMachine.Fire(state, PageMachine.Trigger.Place) == PageMachine.State.Received
                    && PageMachine.Transitions.Length == PageMachine.StateCount * PageMachine.TriggerCount;
            }

            public static PostcopyMachine.State Postcopy() => PostcopyMachine.Fire(PostcopyMachine.Initial, PostcopyMachine.Trigger.Advise);

            public static bool Guarded()
            {
                var state = MigrationStatusDestinationMachine.State.Active;
                return MigrationStatusDestinationMachine.TryFire(ref state, MigrationStatusDestinationMachine.Trigger.Listen, MigrationStatusDestinationMachine.GuardSet.WaitsForPackage)
                    && MigrationStatusSourceMachine.IsTerminal(MigrationStatusSourceMachine.State.Completed);
            }

            public static int Drawings() => MachineCatalog.All.Count + PageMachine.Dot.Length + PostcopyMachine.Mermaid.Length;
        }
        """;

    [Fact]
    public void The_real_specs_generate_code_that_compiles_without_diagnostics()
    {
        var driver = GeneratorHarness.Driver(GeneratorHarness.RealSpecs());
        driver = driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(Consumer), out var compilation, out var generatorDiagnostics);

        Assert.Empty(generatorDiagnostics);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));

        var hints = driver.GetRunResult().Results.Single().GeneratedSources.Select(s => s.HintName).OrderBy(h => h, StringComparer.Ordinal);
        Assert.Equal(
            new[]
            {
                "MachineCatalog.g.cs",
                "MigrationStatusDestinationMachine.g.cs",
                "MigrationStatusSourceMachine.g.cs",
                "PageMachine.g.cs",
                "PostcopyMachine.g.cs",
            },
            hints);
    }

    [Fact]
    public void Three_spec_files_declare_the_expected_machines()
    {
        var specs = GeneratorHarness.RealSpecs();
        Assert.Equal(
            new[] { "migration_status.fsm.yaml", "page.fsm.yaml", "postcopy.fsm.yaml" },
            specs.Select(s => Path.GetFileName(s.Path)));

        var machines = specs
            .Select(s => StateMachineValidator.Validate(StateMachineParser.Parse(s.Path, s.GetText()!.ToString())))
            .SelectMany(f => f.Machines)
            .Select(m => m.Id);
        Assert.Equal(new[] { "migration_status_source", "migration_status_destination", "page", "postcopy" }, machines);
    }

    [Fact]
    public void The_page_diagram_has_exactly_the_four_legal_transitions()
    {
        var page = GeneratorHarness.RealSpecs().Single(s => s.Path.EndsWith("page.fsm.yaml", StringComparison.Ordinal));
        var machine = StateMachineParser.Parse(page.Path, page.GetText()!.ToString()).Machines.Single();

        var edges = MachineDiagram.Dot(machine).Split('\n').Where(l => l.Contains("->", StringComparison.Ordinal)).Select(l => l.Trim());
        Assert.Equal(
            new[]
            {
                "\"missing\" -> \"requested\" [label=\"fault\"];",
                "\"missing\" -> \"received\" [label=\"place\"];",
                "\"requested\" -> \"received\" [label=\"place\"];",
                "\"received\" -> \"missing\" [label=\"discard\"];",
            },
            edges);
    }
}
