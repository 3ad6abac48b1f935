using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Qmig.Generators.Common;

namespace Qmig.Generators.StateMachines;

/// <summary>
/// Turns every <c>*.fsm.yaml</c> AdditionalFile into a generated machine class (see
/// <see cref="StateMachineEmitter"/>) plus one <c>MachineCatalog</c> listing them all.
/// Pipeline: text → <see cref="MachineFile"/> (parse, cached per file) → validated file (cached per
/// file) → that file's diagnostics; all validated files together → machine sources and catalog. The models are value-equal records, so editing C# code reruns
/// nothing here. Each stage catches its own exceptions: one that escaped would make Roslyn drop
/// every output of this generator, for all files.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class StateMachineGenerator : IIncrementalGenerator
{
    public const string ParseStep = "StateMachineParse";
    public const string ValidateStep = "StateMachineValidate";
    public const string CollectStep = "StateMachineCollect";

    public const string FileSuffix = ".fsm.yaml";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // InvalidTransitionException and MachineDescription are not generated: they live in
        // Qmig.Wire.Support, so that machines generated into two assemblies can meet.
        var files = context.AdditionalTextsProvider
            .Where(static text => text.Path.EndsWith(FileSuffix, StringComparison.OrdinalIgnoreCase))
            .Select(static (text, cancellationToken) =>
                StateMachineParser.ParseSafely(text.Path, text.GetText(cancellationToken)?.ToString(), cancellationToken))
            .WithTrackingName(ParseStep)
            .Select(static (file, _) => ValidateSafely(file))
            .WithTrackingName(ValidateStep);

        context.RegisterSourceOutput(files, static (output, file) => Report(output, file));

        // Machines are emitted from all files together: Roslyn rejects a repeated hint name only
        // after the output callback has returned (no try/catch can turn it into a diagnostic), so a
        // machine declared in two files must be dropped before AddSource. Emitting is cheap; the
        // per-file parse and validate steps above are what incrementality saves.
        var all = files.Collect().WithTrackingName(CollectStep);
        var target = TargetNamespace.Provider(context).Select(static (root, _) => root + ".Machines");
        context.RegisterSourceOutput(all.Combine(target), static (output, pair) => EmitAll(output, pair.Left, pair.Right));
    }

    private static MachineFile ValidateSafely(MachineFile file)
    {
        try
        {
            return StateMachineValidator.Validate(file);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var failure = SpecDiagnostic.Create("QMIG0002", SpecLocation.Start(file.Path), ex.GetType().Name + ": " + ex.Message);
            return new MachineFile(file.Path, EquatableArray<MachineModel>.Empty, file.Diagnostics.Concat(new[] { failure }).ToEquatableArray());
        }
    }

    private static void Report(SourceProductionContext output, MachineFile file)
    {
        foreach (var diagnostic in file.Diagnostics)
        {
            output.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(diagnostic));
        }
    }

    private static void EmitAll(SourceProductionContext output, ImmutableArray<MachineFile> files, string targetNamespace)
    {
        // Hint names are compared without case, so two classes differing only in case would collide too.
        var emitted = new Dictionary<string, MachineModel>(StringComparer.OrdinalIgnoreCase);
        var catalog = new List<(MachineModel Machine, string Summary)>();
        foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            foreach (var machine in file.Machines)
            {
                if (emitted.ContainsKey(machine.ClassName))
                {
                    output.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(
                        SpecDiagnostic.Create("QMIG2009", machine.Location, "Machine", machine.Id, machine.ClassName)));
                    continue;
                }

                emitted.Add(machine.ClassName, machine);
                try
                {
                    output.AddSource(StateMachineEmitter.HintName(machine), StateMachineEmitter.Emit(machine, file.Path, targetNamespace));
                    catalog.Add((machine, Summary(machine.Doc)));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    output.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(
                        SpecDiagnostic.Create("QMIG0002", machine.Location, ex.GetType().Name + ": " + ex.Message)));
                }
            }
        }

        output.AddSource("MachineCatalog.g.cs", Catalog(catalog, targetNamespace));
    }

    private static string Catalog(List<(MachineModel Machine, string Summary)> machines, string targetNamespace)
    {
        var w = new SourceWriter();
        w.Line("// <auto-generated/>");
        w.Line("// Generated by Qmig.Generators.StateMachines.StateMachineGenerator: one entry per machine in the *.fsm.yaml files.");
        w.Line("#nullable enable");
        w.Line();
        w.Line("namespace " + targetNamespace + ";");
        w.Line();
        w.Line("/// <summary>Every machine generated into this assembly, for tools that list or draw machines by name.</summary>");
        w.Line(GeneratedCodeAttribute.Line("Qmig.Generators.StateMachines"));
        w.Open("public static class MachineCatalog");
        w.Line("/// <summary>Every generated machine, ordered by spec id.</summary>");
        w.Line("public static global::System.Collections.Generic.IReadOnlyList<global::Qmig.Wire.Machines.MachineDescription> All { get; } = new global::Qmig.Wire.Machines.MachineDescription[]");
        w.Line("{");
        foreach (var (machine, summary) in machines.OrderBy(m => m.Machine.Id, StringComparer.Ordinal))
        {
            var c = machine.ClassName;
            w.Line("    new(" + c + ".Name, " + StateMachineEmitter.Literal(summary) + ", " + c + ".StateCount, " + c + ".TriggerCount, " + c + ".Dot, " + c + ".Mermaid),");
        }

        w.Line("};");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// The machine with this spec id; case-insensitive, and '-' matches '_' so that");
        w.Line("/// <c>migration-status-source</c> works on a command line. Null when there is none.");
        w.Line("/// </summary>");
        w.Open("public static global::Qmig.Wire.Machines.MachineDescription? Find(string name)");
        w.Line("string wanted = name.Replace('-', '_');");
        w.Open("foreach (global::Qmig.Wire.Machines.MachineDescription machine in All)");
        w.Open("if (string.Equals(machine.Name, wanted, global::System.StringComparison.OrdinalIgnoreCase))");
        w.Line("return machine;");
        w.Close();
        w.Close();
        w.Line();
        w.Line("return null;");
        w.Close();
        w.Close();
        return w.ToString();
    }

    private static string Summary(string doc)
    {
        var first = doc.Replace("\r\n", "\n").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
        return first;
    }
}
