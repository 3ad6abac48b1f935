namespace Qmig.Wire.PythonJson;

/// <summary>
/// A JSON number kept as the text Python prints for it: <c>repr(int(...))</c> for integers (any
/// size) and <c>repr(float(...))</c> for the rest, computed once when parsed.
/// </summary>
public sealed class PyNumber(string repr) : PyValue
{
    /// <summary>The number as Python prints it, written unchanged so integers of any size and floats round-trip exactly.</summary>
    public string Repr { get; } = repr;

    /// <summary>The number as Python prints it.</summary>
    public override string ToString() => Repr;
}
