using Qmig.Generators.Common;

namespace Qmig.Generators.StateMachines;

// The parsed form of a *.fsm.yaml file. It holds only strings, integers, SpecLocations and
// EquatableArrays, so two parses of the same text compare equal and the incremental pipeline can
// report the step as cached. Names stay as written in the YAML here; the validator checks them and
// the emitter resolves them to indices.

/// <summary>One spec file: every machine it declares (one per YAML document) and what was wrong with it.</summary>
public sealed record MachineFile(
    string Path,
    EquatableArray<MachineModel> Machines,
    EquatableArray<SpecDiagnostic> Diagnostics)
{
    public MachineFile WithDiagnostics(EquatableArray<SpecDiagnostic> diagnostics) => this with { Diagnostics = diagnostics };
}

/// <summary>A machine as declared: its id (<c>machine:</c>), docs and the four lists.</summary>
public sealed record MachineModel(
    string Id,
    string Doc,
    SpecLocation Location,
    SpecLocation StatesLocation,
    EquatableArray<StateModel> States,
    EquatableArray<TriggerModel> Triggers,
    EquatableArray<GuardModel> Guards,
    EquatableArray<TransitionModel> Transitions)
{
    /// <summary>The generated class: <c>page</c> → <c>PageMachine</c>.</summary>
    public string ClassName => Naming.Pascal(Id) + "Machine";
}

/// <summary>
/// A state. <see cref="InitialLocation"/> points at the <c>initial: true</c> value (or at the id when
/// not initial), so a second initial state can be reported where it was declared.
/// </summary>
public sealed record StateModel(
    string Id,
    string Doc,
    string QemuName,
    bool IsInitial,
    bool IsTerminal,
    SpecLocation Location,
    SpecLocation InitialLocation)
{
    public string Name => Naming.Pascal(Id);
}

/// <summary>An event that may move the machine: a MIG_CMD, a QMP command, a thread exiting.</summary>
public sealed record TriggerModel(string Id, string Doc, string QemuName, SpecLocation Location)
{
    public string Name => Naming.Pascal(Id);
}

/// <summary>A named condition that the caller reports as satisfied or not when firing.</summary>
public sealed record GuardModel(string Id, string Doc, SpecLocation Location)
{
    public string Name => Naming.Pascal(Id);
}

/// <summary>
/// <c>{from, trigger, to, guard?, doc?}</c>, names unresolved, each with the location of its scalar
/// so a diagnostic points at the exact name that is wrong. <see cref="Guard"/> is empty when unguarded.
/// </summary>
public sealed record TransitionModel(
    string From,
    string Trigger,
    string To,
    string Guard,
    string Doc,
    SpecLocation FromLocation,
    SpecLocation TriggerLocation,
    SpecLocation ToLocation,
    SpecLocation GuardLocation)
{
    public bool IsGuarded => Guard.Length > 0;
}
