namespace Qmig.Wire.PythonJson;

/// <summary>
/// A JSON string. It is a sequence of UTF-16 code units, like Python's str after json.loads: a
/// lone surrogate escape survives a round trip, as it does in Python.
/// </summary>
public sealed class PyString(string value) : PyValue
{
    /// <summary>The decoded string (escapes resolved); the writer escapes it again as Python does.</summary>
    public string Value { get; } = value;

    /// <summary>The decoded string itself, not JSON-quoted.</summary>
    public override string ToString() => Value;
}
