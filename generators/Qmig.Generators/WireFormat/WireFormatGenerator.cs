using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Qmig.Generators.Common;

namespace Qmig.Generators.WireFormat;

/// <summary>
/// Turns every <c>*.ksy</c> AdditionalFile into zero-allocation record readers and writers.
/// Pipeline: parse (YAML → model, syntax diagnostics) → check (names, types) → emit. Each stage
/// is tracked by name so tests can assert that an unrelated edit leaves them cached.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class WireFormatGenerator : IIncrementalGenerator
{
    public const string ParseStep = "KsyParse";
    public const string CheckStep = "KsyCheck";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // The support types (WireError, IWireRecord, the sequence helpers) are not generated: they
        // live in Qmig.Wire.Support, so that records generated into two assemblies can meet.
        var specs = context.AdditionalTextsProvider
            .Where(static text => text.Path.EndsWith(".ksy", StringComparison.OrdinalIgnoreCase))
            .Select(static (text, ct) => ParseSafely(text.Path, text.GetText(ct)?.ToString()))
            .WithTrackingName(ParseStep)
            .Combine(TargetNamespace.Provider(context))
            .Select(static (pair, _) => pair.Left.Namespace.Length == 0 ? pair.Left with { Namespace = pair.Right } : pair.Left)
            .Select(static (spec, _) => CheckSafely(spec))
            .WithTrackingName(CheckStep);

        context.RegisterSourceOutput(specs, static (spc, spec) => EmitSafely(spc, spec));

        // Every record of every file lands in one namespace, so a name may be used by one file only.
        var names = specs
            .Select(static (spec, _) => new FileNames(spec.Path, spec.Namespace,
                spec.Types.Select(t => new NamedAt(Naming.Pascal(t.Name), t.Location))
                    .Concat(spec.Enums.Select(e => new NamedAt(Naming.Pascal(e.Name), e.Location))).ToEquatableArray()))
            .Collect();
        context.RegisterSourceOutput(names, static (spc, files) => ReportCollisions(spc, files));
    }

    private static WireSpec ParseSafely(string path, string? text)
    {
        try
        {
            return KsyParser.Parse(path, text ?? string.Empty);
        }
        catch (Exception ex)
        {
            return Failed(path, ex);
        }
    }

    private static WireSpec CheckSafely(WireSpec spec)
    {
        try
        {
            return WireChecker.Check(spec);
        }
        catch (Exception ex)
        {
            return Failed(spec.Path, ex);
        }
    }

    private static WireSpec Failed(string path, Exception ex) => new(path, "failed", "", EquatableArray<WireType>.Empty,
        EquatableArray<WireEnum>.Empty, new[] { SpecDiagnostic.Create("QMIG0002", SpecLocation.Start(path), ex.GetType().Name + ": " + ex.Message) }.ToEquatableArray());

    private static void EmitSafely(SourceProductionContext context, WireSpec spec)
    {
        foreach (var diagnostic in spec.Diagnostics)
        {
            context.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(diagnostic));
        }

        if (spec.Diagnostics.Count > 0)
        {
            return;
        }

        try
        {
            var (files, diagnostics) = WireEmitter.Emit(spec);
            foreach (var diagnostic in diagnostics)
            {
                context.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(diagnostic));
            }

            if (diagnostics.Count > 0)
            {
                return;
            }

            foreach (var (hintName, source) in files)
            {
                context.AddSource(hintName, SourceText.From(source, System.Text.Encoding.UTF8));
            }
        }
        catch (Exception ex)
        {
            context.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(
                SpecDiagnostic.Create("QMIG0002", SpecLocation.Start(spec.Path), ex.GetType().Name + ": " + ex.Message)));
        }
    }

    private static void ReportCollisions(SourceProductionContext context, ImmutableArray<FileNames> files)
    {
        var seen = new Dictionary<string, string>();
        foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            foreach (var named in file.Names)
            {
                var key = file.Namespace + "." + named.Name;
                if (seen.TryGetValue(key, out var firstPath) && firstPath != file.Path)
                {
                    context.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(SpecDiagnostic.Create("QMIG1005", named.Location,
                        $"{named.Name} (also in {System.IO.Path.GetFileName(firstPath)})")));
                }
                else
                {
                    seen[key] = file.Path;
                }
            }
        }
    }

    private sealed record NamedAt(string Name, SpecLocation Location);

    private sealed record FileNames(string Path, string Namespace, EquatableArray<NamedAt> Names);
}
