using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Qmig.Generators.StateMachines;
using Xunit;

namespace Qmig.Generators.Tests.StateMachines;

/// <summary>
/// The pipeline's models are value-equal, so a compilation change that does not touch the spec
/// files reuses every tracked step, and editing one spec file reparses only that file.
/// </summary>
public class StateMachineIncrementalTests
{
    private static readonly string[] TrackedSteps =
    {
        StateMachineGenerator.ParseStep,
        StateMachineGenerator.ValidateStep,
        StateMachineGenerator.CatalogStep,
    };

    [Fact]
    public void An_unrelated_syntax_tree_leaves_every_tracked_step_cached()
    {
        var compilation = GeneratorHarness.Compilation("class Empty { }");
        var driver = GeneratorHarness.Driver(GeneratorHarness.RealSpecs()).RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("class Unrelated { }", GeneratorHarness.ParseOptions)));

        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        foreach (var name in TrackedSteps)
        {
            var outputs = steps[name].SelectMany(step => step.Outputs).ToList();
            Assert.Equal(3, outputs.Count); // one per spec file
            Assert.All(outputs, output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
        }
    }

    [Fact]
    public void Editing_one_spec_reparses_only_that_file()
    {
        var specs = GeneratorHarness.RealSpecs();
        var compilation = GeneratorHarness.Compilation("class Empty { }");
        var driver = GeneratorHarness.Driver(specs).RunGenerators(compilation);

        var page = specs.Single(s => s.Path.EndsWith("page.fsm.yaml", StringComparison.Ordinal));
        var edited = new InMemoryAdditionalText(page.Path, page.GetText()!.ToString().Replace("userfault request", "userfault request, edited"));
        driver = driver.ReplaceAdditionalText(page, edited).RunGenerators(compilation);

        var parse = driver.GetRunResult().Results.Single().TrackedSteps[StateMachineGenerator.ParseStep]
            .SelectMany(step => step.Outputs)
            .Select(output => output.Reason)
            .ToList();
        Assert.Equal(1, parse.Count(reason => reason == IncrementalStepRunReason.Modified));
        Assert.Equal(2, parse.Count(reason => reason == IncrementalStepRunReason.Cached));
    }
}
