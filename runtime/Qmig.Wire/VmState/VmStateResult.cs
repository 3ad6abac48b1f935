using Qmig.Wire.PythonJson;

namespace Qmig.Wire.VmState;

/// <summary>
/// A decoded device body: the field tree as analyze-migration.py shows it (complete, or up to the
/// error), how many body bytes the description accounted for, and the first mismatch if any.
/// </summary>
public sealed record VmStateResult(PyObject State, int Consumed, VmStateError? Error)
{
    /// <summary>True when the whole body matched its description.</summary>
    public bool Succeeded => Error is null;
}
