using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Qmig.Generators.StateMachines;

namespace Qmig.Generators.Tests.StateMachines;

/// <summary>
/// Hosts <see cref="StateMachineGenerator"/> in a plain CSharpGeneratorDriver over an in-memory
/// compilation, with the running framework's assemblies as references (no network, no packs).
/// </summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    // Loading ~200 framework references costs time; every test shares one list.
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray());

    public static CSharpCompilation Compilation(params string[] sources) => CSharpCompilation.Create(
        // Named as the real project: specs without a namespace of their own generate into the assembly's.
        "Qmig.Wire",
        sources.Select(source => CSharpSyntaxTree.ParseText(source, ParseOptions)),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(params AdditionalText[] files) => CSharpGeneratorDriver.Create(
        new[] { new StateMachineGenerator().AsSourceGenerator() },
        files,
        ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>The QMIG diagnostics the generator reports for one spec file.</summary>
    public static ImmutableArray<Diagnostic> Diagnostics(string yaml, string path = "/specs/test.fsm.yaml")
    {
        var driver = Driver(new InMemoryAdditionalText(path, yaml)).RunGenerators(Compilation("class Empty { }"));
        return driver.GetRunResult().Diagnostics;
    }

    /// <summary>The real spec files, copied next to the test assembly by the project file.</summary>
    public static AdditionalText[] RealSpecs() => Directory
        .GetFiles(Path.Combine(AppContext.BaseDirectory, "spec", "machines"), "*.fsm.yaml")
        .OrderBy(path => path, StringComparer.Ordinal)
        .Select(path => (AdditionalText)new InMemoryAdditionalText(path, File.ReadAllText(path)))
        .ToArray();
}

internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    public override string Path => path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
}
