namespace Qmig.Wire.PythonJson;

/// <summary>
/// A JSON number kept as the text Python prints for it: <c>repr(int(...))</c> for integers (any
/// size) and <c>repr(float(...))</c> for the rest, computed once when parsed.
/// </summary>
public sealed class PyNumber(string repr) : PyValue
{
    public string Repr { get; } = repr;

    public override string ToString() => Repr;
}
