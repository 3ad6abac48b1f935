namespace Qmig.Wire.PythonJson;

/// <summary>A JSON array (a Python list).</summary>
public sealed class PyList : PyValue
{
    public List<PyValue> Items { get; } = [];
}
