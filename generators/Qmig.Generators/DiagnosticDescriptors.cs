using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Qmig.Generators.Common;

namespace Qmig.Generators;

/// <summary>
/// Every diagnostic the generators report, with stable ids: QMIG0xxx spec syntax, QMIG1xxx wire
/// semantics, QMIG2xxx state machines. Ids are never reused for another meaning.
/// </summary>
public static class DiagnosticDescriptors
{
    private const string SpecCategory = "Qmig.Spec";

    // ---- QMIG0xxx: spec syntax (any spec file) ----
    public static readonly DiagnosticDescriptor YamlError = Error("QMIG0001", "Spec file is not valid YAML", "YAML error: {0}");
    public static readonly DiagnosticDescriptor GeneratorFailure = Error("QMIG0002", "Generator failed on a spec file", "The generator failed on this file: {0}");
    public static readonly DiagnosticDescriptor UnexpectedShape = Error("QMIG0003", "Unexpected spec shape", "{0}");
    public static readonly DiagnosticDescriptor UnsupportedFeature = Error("QMIG0004", "Unsupported Kaitai feature", "Kaitai feature '{0}' is not supported{1}");
    public static readonly DiagnosticDescriptor MissingKey = Error("QMIG0005", "Missing required key", "'{0}' needs the key '{1}'");

    // ---- QMIG1xxx: wire-format semantics ----
    public static readonly DiagnosticDescriptor UnknownType = Error("QMIG1001", "Unknown type", "Unknown type '{0}'");
    public static readonly DiagnosticDescriptor BadExpression = Error("QMIG1002", "Malformed expression", "Malformed expression '{0}': {1}");
    public static readonly DiagnosticDescriptor UndefinedName = Error("QMIG1003", "Expression names an undefined field", "'{0}' names '{1}', which is not an earlier field, parameter or instance of '{2}'");
    public static readonly DiagnosticDescriptor UnknownEnum = Error("QMIG1004", "Unknown enum", "Unknown enum '{0}'");
    public static readonly DiagnosticDescriptor DuplicateName = Error("QMIG1005", "Duplicate name", "'{0}' is defined twice");
    public static readonly DiagnosticDescriptor BadSwitch = Error("QMIG1006", "Unsupported switch", "{0}");

    // ---- QMIG2xxx: state machines (StateMachineDiagnostics adds its descriptors here) ----
    public static readonly DiagnosticDescriptor UnknownMachineName = Error("QMIG2001", "Transition names an undeclared state, trigger or guard", "Unknown {0} '{1}'; declared {0}s: {2}");
    public static readonly DiagnosticDescriptor DuplicateTransition = Error("QMIG2002", "Two transitions for one state and trigger", "State '{0}' already has a transition on trigger '{1}'{2} (line {3})");
    public static readonly DiagnosticDescriptor UnreachableState = Error("QMIG2003", "State unreachable from the initial state", "State '{0}' cannot be reached from the initial state '{1}'");
    public static readonly DiagnosticDescriptor DeadEndState = Error("QMIG2004", "Non-terminal state with no way out", "State '{0}' is not terminal but no transition leads out of it; add one or mark it 'terminal: true'");
    public static readonly DiagnosticDescriptor NoInitialState = Error("QMIG2005", "No initial state", "Machine '{0}' has no initial state; mark one state 'initial: true'");
    public static readonly DiagnosticDescriptor TerminalWithTransitions = Error("QMIG2006", "Terminal state with an outgoing transition", "Terminal state '{0}' has an outgoing transition on trigger '{1}'");
    public static readonly DiagnosticDescriptor SecondInitialState = Error("QMIG2007", "More than one initial state", "State '{0}' is marked initial, but '{1}' already is");
    public static readonly DiagnosticDescriptor TooManyNames = Error("QMIG2008", "Too many states, triggers or guards", "Machine '{0}' declares {1} {2}; at most {3} fit");
    public static readonly DiagnosticDescriptor DuplicateDeclaration = Error("QMIG2009", "Name declared twice", "{0} '{1}' is declared twice (or becomes the same C# name '{2}' as another)");
    public static readonly DiagnosticDescriptor InvalidMachineId = Error("QMIG2010", "Invalid id", "'{0}' is not a valid id: {1}");

    private static DiagnosticDescriptor Error(string id, string title, string format) =>
        new(id, title, format, SpecCategory, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = new();

    static DiagnosticDescriptors()
    {
        foreach (var field in typeof(DiagnosticDescriptors).GetFields())
        {
            if (field.GetValue(null) is DiagnosticDescriptor descriptor)
            {
                ById[descriptor.Id] = descriptor;
            }
        }
    }

    /// <summary>Turns a diagnostic kept as data in a model back into a Roslyn diagnostic.</summary>
    public static Diagnostic ToDiagnostic(SpecDiagnostic diagnostic)
    {
        var descriptor = ById.TryGetValue(diagnostic.Id, out var found) ? found : GeneratorFailure;
        var arguments = new object[diagnostic.Arguments.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = diagnostic.Arguments[i];
        }

        return Diagnostic.Create(descriptor, diagnostic.Location.ToLocation(), arguments);
    }
}
