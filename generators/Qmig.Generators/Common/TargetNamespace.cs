using Microsoft.CodeAnalysis;

namespace Qmig.Generators.Common;

/// <summary>
/// Where generated code goes when a spec does not say: the consuming project's root namespace
/// (<c>build_property.RootNamespace</c>, which the package's build props make visible to
/// generators), else its assembly name. A spec that names its own (<c>-qmig-namespace</c>) wins.
/// </summary>
internal static class TargetNamespace
{
    public static IncrementalValueProvider<string> Provider(IncrementalGeneratorInitializationContext context) =>
        context.AnalyzerConfigOptionsProvider.Combine(context.CompilationProvider)
            .Select(static (pair, _) =>
                pair.Left.GlobalOptions.TryGetValue("build_property.RootNamespace", out var root) && !string.IsNullOrWhiteSpace(root)
                    ? root.Trim()
                    : pair.Right.AssemblyName ?? "Generated");
}
