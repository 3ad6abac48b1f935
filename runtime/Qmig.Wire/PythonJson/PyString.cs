namespace Qmig.Wire.PythonJson;

/// <summary>
/// A JSON string. It is a sequence of UTF-16 code units, like Python's str after json.loads: a
/// lone surrogate escape survives a round trip, as it does in Python.
/// </summary>
public sealed class PyString(string value) : PyValue
{
    public string Value { get; } = value;

    public override string ToString() => Value;
}
