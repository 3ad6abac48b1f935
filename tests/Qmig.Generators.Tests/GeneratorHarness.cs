using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Qmig.Generators.Tests;

/// <summary>Runs a generator in memory over spec texts, the way the compiler does in a build.</summary>
public static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray());

    public sealed record Result(GeneratorDriver Driver, Compilation Input, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics, ImmutableArray<AdditionalText> Texts)
    {
        public IEnumerable<Diagnostic> CompileErrors =>
            Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error);
    }

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview);

    /// <summary>As a project with <c>GenerateDocumentationFile</c>: doc comments are checked, a public member without one is CS1591.</summary>
    public static readonly CSharpParseOptions DocumentedParseOptions = ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);

    public static CSharpCompilation NewCompilation(string code = "class Consumer { }", CSharpParseOptions? parseOptions = null) => CSharpCompilation.Create(
        // Named as the real project: specs without a namespace of their own generate into the assembly's.
        "Qmig.Wire",
        [CSharpSyntaxTree.ParseText(code, parseOptions ?? ParseOptions)],
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

    public static Result Run(IIncrementalGenerator generator, params (string Path, string Text)[] files) =>
        Run(generator, ParseOptions, files);

    public static Result Run(IIncrementalGenerator generator, CSharpParseOptions parseOptions, params (string Path, string Text)[] files)
    {
        var texts = files.Select(f => (AdditionalText)new InMemoryAdditionalText(f.Path, f.Text)).ToImmutableArray();
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [generator.AsSourceGenerator()],
            texts,
            parseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        var input = NewCompilation(parseOptions: parseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out var output, out var diagnostics);
        return new Result(driver, input, output, diagnostics, texts);
    }

    /// <summary>Reads a spec file copied next to the test assembly (see the csproj).</summary>
    public static (string Path, string Text) SpecFile(string relative)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "spec", relative);
        return (path, File.ReadAllText(path));
    }

    public static IEnumerable<(string Path, string Text)> SpecFiles(string folder, string pattern) =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "spec", folder), pattern)
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (p, File.ReadAllText(p)));

    public sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
    {
        public override string Path => path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }
}
