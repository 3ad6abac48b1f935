namespace Qmig.Wire.Machines;

/// <summary>A generated machine as data, for tools that list or draw machines by name.</summary>
/// <param name="Name">The spec id (<c>page</c>).</param>
/// <param name="Summary">The first line of the machine's doc.</param>
/// <param name="StateCount">Number of states.</param>
/// <param name="TriggerCount">Number of triggers.</param>
/// <param name="Dot">The Graphviz DOT text.</param>
/// <param name="Mermaid">The Mermaid stateDiagram-v2 text.</param>
public sealed record MachineDescription(string Name, string Summary, int StateCount, int TriggerCount, string Dot, string Mermaid);
