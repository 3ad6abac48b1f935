using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Qmig.Generators.WireFormat;
using Xunit;

namespace Qmig.Generators.Tests.WireFormat;

public class WireGeneratorTests
{
    [Fact]
    public void TheProjectSpecGeneratesCodeThatCompiles()
    {
        var specs = GeneratorHarness.SpecFiles("migration", "*.ksy").ToArray();
        Assert.True(specs.Length >= 4, "spec/migration/*.ksy should be copied next to the tests");
        var result = GeneratorHarness.Run(new WireFormatGenerator(), specs);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompileErrors);
        var generated = result.Driver.GetRunResult().GeneratedTrees.Select(t => System.IO.Path.GetFileName(t.FilePath)).ToList();
        Assert.Contains(generated, name => name.EndsWith(".SectionFooter.g.cs", StringComparison.Ordinal));
        Assert.Contains(generated, name => name.EndsWith(".MigCmd.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void ASecondRunWithAnUnrelatedEditIsCachedAtEveryTrackedStep()
    {
        var specs = GeneratorHarness.SpecFiles("migration", "*.ksy").ToArray();
        var first = GeneratorHarness.Run(new WireFormatGenerator(), specs);
        var driver = first.Driver.RunGenerators(first.Input.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { }", GeneratorHarness.ParseOptions)));
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        foreach (var stepName in new[] { WireFormatGenerator.ParseStep, WireFormatGenerator.CheckStep })
        {
            Assert.True(steps.ContainsKey(stepName), $"step {stepName} is not tracked");
            var outputs = steps[stepName].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        }
    }

    [Fact]
    public void EditingOneSpecReparsesOnlyThatFile()
    {
        var specs = GeneratorHarness.SpecFiles("migration", "*.ksy").ToArray();
        var first = GeneratorHarness.Run(new WireFormatGenerator(), specs);
        var driver = first.Driver.ReplaceAdditionalText(first.Texts[0],
            new GeneratorHarness.InMemoryAdditionalText(specs[0].Path, specs[0].Text + "\n# an edit\n"));
        driver = driver.RunGenerators(first.Input);
        var parse = driver.GetRunResult().Results.Single().TrackedSteps[WireFormatGenerator.ParseStep].SelectMany(s => s.Outputs).ToList();
        Assert.Equal(specs.Length - 1, parse.Count(o => o.Reason == IncrementalStepRunReason.Cached));
        Assert.Single(parse, o => o.Reason is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New or IncrementalStepRunReason.Unchanged);
    }
}
