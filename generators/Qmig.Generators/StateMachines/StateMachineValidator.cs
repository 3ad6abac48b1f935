using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Qmig.Generators.Common;

namespace Qmig.Generators.StateMachines;

/// <summary>
/// The semantic rules of a machine (QMIG2xxx), checked when the project compiles. Returns the file
/// with the diagnostics added and every machine reduced to what can be emitted safely (duplicate
/// declarations and transitions that name something undeclared are dropped), so the emitter never
/// has to second-guess its input and a mistake in the YAML shows up once, at its line, not as a
/// cascade of C# errors.
/// </summary>
public static class StateMachineValidator
{
    /// <summary>0xFF marks "no transition" in the table, so a state index must stay below it.</summary>
    public const int MaxStates = 255;

    public const int MaxTriggers = 256;

    /// <summary>The guard set is a [Flags] enum over uint.</summary>
    public const int MaxGuards = 32;

    public static MachineFile Validate(MachineFile file)
    {
        var diagnostics = new List<SpecDiagnostic>(file.Diagnostics);
        var machines = new List<MachineModel>();
        var machineNames = new Dictionary<string, MachineModel>(System.StringComparer.OrdinalIgnoreCase); // also hint names

        // A shape error (missing key, unknown key, bad id) leaves the machine incomplete; judging its
        // graph would add unreachable states and dead ends that are only echoes of that error.
        var complete = file.Diagnostics.Count == 0;
        foreach (var machine in file.Machines)
        {
            var className = machine.ClassName;
            if (machineNames.ContainsKey(className))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG2009", machine.Location, "Machine", machine.Id, className));
                continue;
            }

            machineNames.Add(className, machine);
            if (Validate(machine, complete, diagnostics) is { } valid)
            {
                machines.Add(valid);
            }
        }

        return new MachineFile(file.Path, machines.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    /// <summary>Checks one machine; null when it cannot be emitted at all (too many names, no states).</summary>
    private static MachineModel? Validate(MachineModel machine, bool complete, List<SpecDiagnostic> diagnostics)
    {
        var states = Distinct(machine.States, s => s.Id, s => s.Name, s => s.Location, "State", diagnostics);
        var triggers = Distinct(machine.Triggers, t => t.Id, t => t.Name, t => t.Location, "Trigger", diagnostics);
        var guards = Distinct(machine.Guards, g => g.Id, g => g.Name, g => g.Location, "Guard", diagnostics);

        // The generated GuardSet has a None member; a guard named none would collide with it.
        foreach (var guard in guards.Where(g => g.Name == "None").ToList())
        {
            diagnostics.Add(SpecDiagnostic.Create("QMIG2010", guard.Location, guard.Id, "'none' is reserved for the empty guard set"));
            guards.Remove(guard);
        }

        var emittable = states.Count > 0;
        emittable &= WithinLimit(machine, states.Count, "states", MaxStates, diagnostics);
        emittable &= WithinLimit(machine, triggers.Count, "triggers", MaxTriggers, diagnostics);
        emittable &= WithinLimit(machine, guards.Count, "guards", MaxGuards, diagnostics);

        var initial = states.Where(s => s.IsInitial).ToList();
        if (initial.Count == 0 && states.Count > 0)
        {
            diagnostics.Add(SpecDiagnostic.Create("QMIG2005", machine.StatesLocation, machine.Id));
        }

        foreach (var extra in initial.Skip(1))
        {
            diagnostics.Add(SpecDiagnostic.Create("QMIG2007", extra.InitialLocation, extra.Id, initial[0].Id));
        }

        var stateIds = new HashSet<string>(states.Select(s => s.Id));
        var terminalIds = new HashSet<string>(states.Where(s => s.IsTerminal).Select(s => s.Id));
        var triggerIds = new HashSet<string>(triggers.Select(t => t.Id));
        var guardIds = new HashSet<string>(guards.Select(g => g.Id));
        var namesOk = true;
        var transitions = new List<TransitionModel>();
        var seen = new Dictionary<(string From, string Trigger, string Guard), TransitionModel>();
        foreach (var transition in machine.Transitions)
        {
            var known = Known(transition.From, transition.FromLocation, "state", stateIds, states.Select(s => s.Id), diagnostics);
            known &= Known(transition.Trigger, transition.TriggerLocation, "trigger", triggerIds, triggers.Select(t => t.Id), diagnostics);
            known &= Known(transition.To, transition.ToLocation, "state", stateIds, states.Select(s => s.Id), diagnostics);
            if (transition.IsGuarded)
            {
                known &= Known(transition.Guard, transition.GuardLocation, "guard", guardIds, guards.Select(g => g.Id), diagnostics);
            }

            if (!known)
            {
                namesOk = false;
                continue;
            }

            var key = (transition.From, transition.Trigger, transition.Guard);
            if (seen.TryGetValue(key, out var first))
            {
                var guardText = transition.IsGuarded ? " with guard '" + transition.Guard + "'" : "";
                var firstLine = (first.FromLocation.Line + 1).ToString(CultureInfo.InvariantCulture);
                diagnostics.Add(SpecDiagnostic.Create("QMIG2002", transition.FromLocation, transition.From, transition.Trigger, guardText, firstLine));
                continue;
            }

            seen.Add(key, transition);
            if (terminalIds.Contains(transition.From))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG2006", transition.FromLocation, transition.From, transition.Trigger));
            }

            transitions.Add(transition);
        }

        // Graph rules only make sense on a graph whose names all resolved; otherwise a typo would
        // also be reported as an unreachable state and a dead end.
        if (complete && namesOk && initial.Count > 0)
        {
            CheckGraph(states, transitions, initial[0], diagnostics);
        }

        return emittable
            ? machine with
            {
                States = states.ToEquatableArray(),
                Triggers = triggers.ToEquatableArray(),
                Guards = guards.ToEquatableArray(),
                Transitions = transitions.ToEquatableArray(),
            }
            : null;
    }

    private static void CheckGraph(List<StateModel> states, List<TransitionModel> transitions, StateModel initial, List<SpecDiagnostic> diagnostics)
    {
        var successors = states.ToDictionary(s => s.Id, _ => new List<string>());
        foreach (var transition in transitions)
        {
            successors[transition.From].Add(transition.To);
        }

        var reached = new HashSet<string> { initial.Id };
        var pending = new Queue<string>();
        pending.Enqueue(initial.Id);
        while (pending.Count > 0)
        {
            foreach (var next in successors[pending.Dequeue()])
            {
                if (reached.Add(next))
                {
                    pending.Enqueue(next);
                }
            }
        }

        foreach (var state in states)
        {
            if (!reached.Contains(state.Id))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG2003", state.Location, state.Id, initial.Id));
            }

            // A self-loop is no way out: the machine would stay in the state forever.
            if (!state.IsTerminal && !successors[state.Id].Any(to => to != state.Id))
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG2004", state.Location, state.Id));
            }
        }
    }

    private static bool Known(string name, SpecLocation location, string kind, HashSet<string> declared, IEnumerable<string> order, List<SpecDiagnostic> diagnostics)
    {
        if (declared.Contains(name))
        {
            return true;
        }

        var list = declared.Count == 0 ? "(none)" : string.Join(", ", order);
        diagnostics.Add(SpecDiagnostic.Create("QMIG2001", location, kind, name, list));
        return false;
    }

    /// <summary>Keeps the first declaration of each C# name; later ones are reported and dropped.</summary>
    private static List<T> Distinct<T>(
        EquatableArray<T> items,
        System.Func<T, string> id,
        System.Func<T, string> name,
        System.Func<T, SpecLocation> location,
        string kind,
        List<SpecDiagnostic> diagnostics)
        where T : System.IEquatable<T>
    {
        var names = new HashSet<string>();
        var result = new List<T>();
        foreach (var item in items)
        {
            if (names.Add(name(item)))
            {
                result.Add(item);
            }
            else
            {
                diagnostics.Add(SpecDiagnostic.Create("QMIG2009", location(item), kind, id(item), name(item)));
            }
        }

        return result;
    }

    private static bool WithinLimit(MachineModel machine, int count, string what, int max, List<SpecDiagnostic> diagnostics)
    {
        if (count <= max)
        {
            return true;
        }

        diagnostics.Add(SpecDiagnostic.Create(
            "QMIG2008",
            machine.Location,
            machine.Id,
            count.ToString(CultureInfo.InvariantCulture),
            what,
            max.ToString(CultureInfo.InvariantCulture)));
        return false;
    }
}
