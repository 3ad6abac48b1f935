namespace Qmig.Wire.PythonJson;

/// <summary>A JSON array (a Python list).</summary>
public sealed class PyList : PyValue
{
    /// <summary>The elements in document order; mutable so a document can be built up before it is written.</summary>
    public List<PyValue> Items { get; } = [];
}
