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
    [Theory]
    [InlineData(StateMachineGenerator.ParseStep, 3)] // one output per spec file
    [InlineData(StateMachineGenerator.ValidateStep, 3)]
    [InlineData(StateMachineGenerator.CollectStep, 1)] // all files together, for emission
    public void An_unrelated_syntax_tree_leaves_every_tracked_step_cached(string step, int outputs)
    {
        var compilation = GeneratorHarness.Compilation("class Empty { }");
        var driver = GeneratorHarness.Driver(GeneratorHarness.RealSpecs()).RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("class Unrelated { }", GeneratorHarness.ParseOptions)));

        var reasons = driver.GetRunResult().Results.Single().TrackedSteps[step]
            .SelectMany(run => run.Outputs)
            .Select(output => output.Reason)
            .ToList();
        Assert.Equal(outputs, reasons.Count);
        Assert.All(reasons, reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
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
