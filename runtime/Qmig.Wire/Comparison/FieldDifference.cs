using Qmig.Wire.PythonJson;

namespace Qmig.Wire.Comparison;

/// <summary>A field path (as in state.json, e.g. <c>env.regs[3]</c>) and its value on each side; null where absent.</summary>
/// <param name="Path">The field's path.</param>
/// <param name="A">Its value in A, or null when A does not have it.</param>
/// <param name="B">Its value in B, or null when B does not have it.</param>
public sealed record FieldDifference(string Path, PyValue? A, PyValue? B);
