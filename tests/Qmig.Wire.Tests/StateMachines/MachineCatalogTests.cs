using Qmig.Wire.Machines;
using Xunit;

namespace Qmig.Wire.Tests.StateMachines;

public class MachineCatalogTests
{
    [Fact]
    public void The_catalog_lists_every_protocol_machine_by_spec_id()
    {
        // The page machine is the OS layer's: Qmig.Linux generates it into its own catalog.
        Assert.Equal(
            new[] { "migration_status_destination", "migration_status_source", "postcopy" },
            MachineCatalog.All.Select(m => m.Name));
        Assert.Same(MachineCatalog.All[2], MachineCatalog.Find("POSTCOPY"));
        Assert.Null(MachineCatalog.Find("page"));
        Assert.Equal("migration_status_source", MachineCatalog.Find("migration-status-source")?.Name);
        Assert.Null(MachineCatalog.Find("door"));
    }

    [Fact]
    public void Each_drawing_has_one_edge_per_transition()
    {
        // Transition counts from the spec files; DOT has no pseudo-edges, Mermaid adds [*] arrows.
        var transitions = new Dictionary<string, int>
        {
            ["migration_status_destination"] = 17,
            ["migration_status_source"] = 41,
            ["page"] = 4,
            ["postcopy"] = 7,
        };
        foreach (var machine in MachineCatalog.All)
        {
            Assert.Equal(transitions[machine.Name], machine.Dot.Split('\n').Count(l => l.Contains("->", StringComparison.Ordinal)));
            Assert.Equal(transitions[machine.Name], machine.Mermaid.Split('\n').Count(l => l.Contains("-->", StringComparison.Ordinal) && !l.Contains("[*]", StringComparison.Ordinal)));
        }
    }
}
