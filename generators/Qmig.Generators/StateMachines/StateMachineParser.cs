using System;
using System.Collections.Generic;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;
using Qmig.Generators.Common;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Qmig.Generators.StateMachines;

/// <summary>
/// Reads a *.fsm.yaml file (one machine per YAML document, see spec/README.md "State machines")
/// into a <see cref="MachineFile"/>. Only the shape is checked here (QMIG0xxx and id syntax);
/// what the names mean is the validator's job. Every problem is kept as a located
/// <see cref="SpecDiagnostic"/> and parsing goes on, so one build shows every mistake in the file.
/// </summary>
public static class StateMachineParser
{
    // lower_snake without doubled or trailing underscores, so that PascalCase names stay readable.
    private static readonly Regex IdPattern = new("^[a-z][a-z0-9]*(_[a-z0-9]+)*$", RegexOptions.CultureInvariant);

    private static readonly string[] MachineKeys = { "machine", "doc", "states", "triggers", "guards", "transitions" };
    private static readonly string[] StateKeys = { "doc", "qemu", "initial", "terminal" };
    private static readonly string[] TriggerKeys = { "doc", "qemu" };
    private static readonly string[] GuardKeys = { "doc" };
    private static readonly string[] TransitionKeys = { "from", "trigger", "to", "guard", "doc" };

    /// <summary>
    /// Never throws (except for cancellation): an exception escaping a generator would drop all of
    /// its output, so anything unexpected becomes QMIG0002 on this file.
    /// </summary>
    public static MachineFile ParseSafely(string path, string? text, CancellationToken cancellationToken)
    {
        try
        {
            if (text is null)
            {
                return Failed(path, "the file could not be read");
            }

            return Parse(path, text, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Failed(path, ex.GetType().Name + ": " + ex.Message);
        }
    }

    public static MachineFile Parse(string path, string text, CancellationToken cancellationToken = default)
    {
        var reader = new Reader(path);
        var machines = new List<MachineModel>();
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            reader.Report("QMIG0001", YamlSpecLoader.At(path, ex.Start, ex.End), ex.Message);
            return reader.Result(machines);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // YamlDotNet throws InvalidOperationException without a position on some malformed input
            // (an unclosed flow collection); the last event it did parse is the best place to point at.
            var near = parser.Current is { } last ? YamlSpecLoader.At(path, last.End, last.End) : SpecLocation.Start(path);
            reader.Report("QMIG0001", near, ex.Message + " (near here)");
            return reader.Result(machines);
        }

        foreach (var document in stream.Documents)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (document.RootNode is YamlScalarNode scalar && IsNull(scalar))
            {
                continue; // an empty document, e.g. after a trailing '---'
            }

            if (document.RootNode is not YamlMappingNode root)
            {
                reader.Report("QMIG0003", reader.At(document.RootNode), "A machine document must be a YAML mapping");
                continue;
            }

            var machine = reader.Machine(root);
            if (machine is not null)
            {
                machines.Add(machine);
            }
        }

        if (machines.Count == 0 && reader.DiagnosticCount == 0)
        {
            reader.Report("QMIG0003", SpecLocation.Start(path), "The file declares no machine");
        }

        return reader.Result(machines);
    }

    private static MachineFile Failed(string path, string message) => new(
        path,
        EquatableArray<MachineModel>.Empty,
        new[] { SpecDiagnostic.Create("QMIG0002", SpecLocation.Start(path), message) }.ToEquatableArray());

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == ScalarStyle.Plain && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");

    /// <summary>Walks one file's node trees, collecting diagnostics.</summary>
    private sealed class Reader(string path)
    {
        private readonly List<SpecDiagnostic> _diagnostics = new();

        public int DiagnosticCount => _diagnostics.Count;

        public SpecLocation At(YamlNode node) => YamlSpecLoader.At(path, node);

        public void Report(string id, SpecLocation location, params string[] arguments) =>
            _diagnostics.Add(SpecDiagnostic.Create(id, location, arguments));

        public MachineFile Result(List<MachineModel> machines) =>
            new(path, machines.ToEquatableArray(), _diagnostics.ToEquatableArray());

        public MachineModel? Machine(YamlMappingNode root)
        {
            string? id = null;
            var location = At(root);
            var doc = "";
            var statesLocation = location;
            var states = new List<StateModel>();
            var triggers = new List<TriggerModel>();
            var guards = new List<GuardModel>();
            var transitions = new List<TransitionModel>();
            bool hasStates = false, hasTriggers = false, hasTransitions = false;

            foreach (var (key, keyLocation, value) in Entries(root, "a machine", MachineKeys))
            {
                switch (key)
                {
                    case "machine":
                        if (Id(value, "machine") is { } name)
                        {
                            id = name;
                            location = At(value);
                        }

                        break;
                    case "doc":
                        doc = Text(value, "doc") ?? "";
                        break;
                    case "states":
                        hasStates = true;
                        statesLocation = keyLocation;
                        foreach (var (stateKey, stateValue) in Declarations(value, "states"))
                        {
                            if (State(stateKey, stateValue) is { } state)
                            {
                                states.Add(state);
                            }
                        }

                        break;
                    case "triggers":
                        hasTriggers = true;
                        foreach (var (triggerKey, triggerValue) in Declarations(value, "triggers"))
                        {
                            if (Id(triggerKey, "trigger") is { } triggerId)
                            {
                                var fields = Fields(triggerValue, "trigger '" + triggerId + "'", TriggerKeys);
                                triggers.Add(new TriggerModel(triggerId, Get(fields, "doc"), Get(fields, "qemu"), At(triggerKey)));
                            }
                        }

                        break;
                    case "guards":
                        foreach (var (guardKey, guardValue) in Declarations(value, "guards"))
                        {
                            if (Id(guardKey, "guard") is { } guardId)
                            {
                                var fields = Fields(guardValue, "guard '" + guardId + "'", GuardKeys);
                                guards.Add(new GuardModel(guardId, Get(fields, "doc"), At(guardKey)));
                            }
                        }

                        break;
                    case "transitions":
                        hasTransitions = true;
                        if (value is YamlSequenceNode sequence)
                        {
                            foreach (var item in sequence.Children)
                            {
                                if (Transition(item) is { } transition)
                                {
                                    transitions.Add(transition);
                                }
                            }
                        }
                        else if (!(value is YamlScalarNode empty && IsNull(empty)))
                        {
                            Report("QMIG0003", At(value), "'transitions' must be a list of {from, trigger, to, guard?, doc?}");
                        }

                        break;
                }
            }

            var what = id is null ? "a machine" : "machine '" + id + "'";
            if (id is null)
            {
                Report("QMIG0005", At(root), what, "machine");
            }

            if (!hasStates)
            {
                Report("QMIG0005", location, what, "states");
            }

            if (!hasTriggers)
            {
                Report("QMIG0005", location, what, "triggers");
            }

            if (!hasTransitions)
            {
                Report("QMIG0005", location, what, "transitions");
            }

            return id is null
                ? null
                : new MachineModel(
                    id,
                    doc,
                    location,
                    statesLocation,
                    states.ToEquatableArray(),
                    triggers.ToEquatableArray(),
                    guards.ToEquatableArray(),
                    transitions.ToEquatableArray());
        }

        private StateModel? State(YamlScalarNode key, YamlNode value)
        {
            if (Id(key, "state") is not { } id)
            {
                return null;
            }

            var what = "state '" + id + "'";
            var initial = false;
            var terminal = false;
            var initialLocation = At(key);
            var doc = "";
            var qemu = "";
            foreach (var (field, _, fieldValue) in OptionalEntries(value, what, StateKeys))
            {
                switch (field)
                {
                    case "doc":
                        doc = Text(fieldValue, "doc") ?? "";
                        break;
                    case "qemu":
                        qemu = Text(fieldValue, "qemu") ?? "";
                        break;
                    case "initial":
                        initial = Bool(fieldValue, "initial");
                        initialLocation = At(fieldValue);
                        break;
                    case "terminal":
                        terminal = Bool(fieldValue, "terminal");
                        break;
                }
            }

            return new StateModel(id, doc, qemu, initial, terminal, At(key), initialLocation);
        }

        private TransitionModel? Transition(YamlNode item)
        {
            if (item is not YamlMappingNode map)
            {
                Report("QMIG0003", At(item), "A transition must be a mapping {from, trigger, to, guard?, doc?}");
                return null;
            }

            var names = new Dictionary<string, (string Text, SpecLocation Location)>();
            foreach (var (key, _, value) in Entries(map, "a transition", TransitionKeys))
            {
                if (Text(value, key) is { } text)
                {
                    names[key] = (text, At(value));
                }
            }

            var complete = true;
            foreach (var required in new[] { "from", "trigger", "to" })
            {
                if (!names.ContainsKey(required))
                {
                    Report("QMIG0005", At(map), "a transition", required);
                    complete = false;
                }
            }

            if (!complete)
            {
                return null;
            }

            var guard = names.TryGetValue("guard", out var g) ? g : ("", At(map));
            var doc = names.TryGetValue("doc", out var d) ? d.Text : "";
            return new TransitionModel(
                names["from"].Text,
                names["trigger"].Text,
                names["to"].Text,
                guard.Item1,
                doc,
                names["from"].Location,
                names["trigger"].Location,
                names["to"].Location,
                guard.Item2);
        }

        /// <summary>A mapping's entries with scalar keys; unknown keys are reported at the key.</summary>
        private IEnumerable<(string Key, SpecLocation KeyLocation, YamlNode Value)> Entries(YamlMappingNode map, string what, string[] allowed)
        {
            foreach (var entry in map.Children)
            {
                if (entry.Key is not YamlScalarNode key || key.Value is null)
                {
                    Report("QMIG0003", At(entry.Key), "Keys in " + what + " must be plain names");
                    continue;
                }

                if (Array.IndexOf(allowed, key.Value) < 0)
                {
                    Report("QMIG0003", At(key), "Unknown key '" + key.Value + "' in " + what + "; expected one of: " + string.Join(", ", allowed));
                    continue;
                }

                yield return (key.Value, At(key), entry.Value);
            }
        }

        /// <summary>Like <see cref="Entries"/>, but an empty value (<c>missing:</c>) means "no fields".</summary>
        private IEnumerable<(string Key, SpecLocation KeyLocation, YamlNode Value)> OptionalEntries(YamlNode value, string what, string[] allowed)
        {
            if (value is YamlScalarNode scalar && IsNull(scalar))
            {
                return Array.Empty<(string, SpecLocation, YamlNode)>();
            }

            if (value is YamlMappingNode map)
            {
                return Entries(map, what, allowed);
            }

            Report("QMIG0003", At(value), "The fields of " + what + " must be a mapping with keys " + string.Join(", ", allowed) + " (or empty)");
            return Array.Empty<(string, SpecLocation, YamlNode)>();
        }

        private Dictionary<string, string> Fields(YamlNode value, string what, string[] allowed)
        {
            var fields = new Dictionary<string, string>();
            foreach (var (key, _, fieldValue) in OptionalEntries(value, what, allowed))
            {
                if (Text(fieldValue, key) is { } text)
                {
                    fields[key] = text;
                }
            }

            return fields;
        }

        private static string Get(Dictionary<string, string> fields, string key) =>
            fields.TryGetValue(key, out var value) ? value : "";

        /// <summary>The entries of <c>states</c>/<c>triggers</c>/<c>guards</c>: id → fields.</summary>
        private IEnumerable<(YamlScalarNode Key, YamlNode Value)> Declarations(YamlNode node, string what)
        {
            if (node is YamlScalarNode scalar && IsNull(scalar))
            {
                yield break;
            }

            if (node is not YamlMappingNode map)
            {
                Report("QMIG0003", At(node), "'" + what + "' must be a mapping from id to its fields");
                yield break;
            }

            foreach (var entry in map.Children)
            {
                if (entry.Key is not YamlScalarNode key)
                {
                    Report("QMIG0003", At(entry.Key), "Ids in '" + what + "' must be plain names");
                    continue;
                }

                yield return (key, entry.Value);
            }
        }

        private string? Id(YamlNode node, string what)
        {
            if (Text(node, what) is not { } text)
            {
                return null;
            }

            if (!IdPattern.IsMatch(text))
            {
                Report("QMIG2010", At(node), text, "a " + what + " id is lower_snake_case (a-z, 0-9, single '_' between words) and starts with a letter");
                return null;
            }

            return text;
        }

        private string? Text(YamlNode node, string what)
        {
            if (node is YamlScalarNode scalar && scalar.Value is not null)
            {
                return scalar.Value.Trim();
            }

            Report("QMIG0003", At(node), "'" + what + "' must be a single value (a scalar)");
            return null;
        }

        private bool Bool(YamlNode node, string what)
        {
            var text = Text(node, what);
            if (string.Equals(text, "true", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            if (text is not null && !string.Equals(text, "false", StringComparison.OrdinalIgnoreCase))
            {
                Report("QMIG0003", At(node), "'" + what + "' must be true or false");
            }

            return false;
        }
    }
}
