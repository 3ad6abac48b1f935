using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Qmig.Generators.StateMachines;

/// <summary>
/// The DOT and Mermaid text of a validated machine, computed when the project compiles and emitted
/// as string constants, so drawing a machine at run time costs nothing and can never disagree with
/// the table. Lines are joined with '\n' for output that is identical on every OS.
/// </summary>
public static class MachineDiagram
{
    /// <summary>
    /// One edge per transition and nothing else with an arrow: the initial state is marked by a bold
    /// outline and terminal states by a double outline, not by extra pseudo-edges, so counting the
    /// arrows counts the legal transitions.
    /// </summary>
    public static string Dot(MachineModel machine)
    {
        var lines = new List<string>
        {
            "digraph " + machine.Id + " {",
            "    rankdir=LR;",
            "    node [shape=ellipse];",
        };
        foreach (var state in machine.States)
        {
            var attributes = new List<string>();
            if (state.IsInitial)
            {
                attributes.Add("style=bold");
            }

            if (state.IsTerminal)
            {
                attributes.Add("peripheries=2");
            }

            lines.Add(attributes.Count == 0
                ? "    \"" + state.Id + "\";"
                : "    \"" + state.Id + "\" [" + string.Join(", ", attributes) + "];");
        }

        foreach (var transition in machine.Transitions)
        {
            lines.Add("    \"" + transition.From + "\" -> \"" + transition.To + "\" [label=\"" + Label(transition) + "\"];");
        }

        lines.Add("}");
        return string.Join("\n", lines);
    }

    /// <summary>
    /// Mermaid's stateDiagram-v2, with PascalCase state ids: Mermaid reserves some lower-case words
    /// (<c>end</c> among them), and the C# names are what readers of the code see anyway.
    /// </summary>
    public static string Mermaid(MachineModel machine)
    {
        var names = machine.States.ToDictionary(s => s.Id, s => s.Name);
        var lines = new List<string> { "stateDiagram-v2" };
        foreach (var state in machine.States.Where(s => s.IsInitial))
        {
            lines.Add("    [*] --> " + state.Name);
        }

        foreach (var transition in machine.Transitions)
        {
            lines.Add("    " + names[transition.From] + " --> " + names[transition.To] + " : " + Label(transition));
        }

        foreach (var state in machine.States.Where(s => s.IsTerminal))
        {
            lines.Add("    " + state.Name + " --> [*]");
        }

        return string.Join("\n", lines);
    }

    private static string Label(TransitionModel transition) =>
        transition.IsGuarded ? transition.Trigger + " [" + transition.Guard + "]" : transition.Trigger;

    /// <summary>The opening/closing quotes of a C# raw string literal that can hold <paramref name="text"/>.</summary>
    public static string RawDelimiter(string text)
    {
        int longest = 0, run = 0;
        foreach (var c in text)
        {
            run = c == '"' ? run + 1 : 0;
            longest = run > longest ? run : longest;
        }

        return new StringBuilder().Append('"', longest < 3 ? 3 : longest + 1).ToString();
    }
}
