namespace Qmig.Wire.PythonJson;

/// <summary>JSON null (Python's None).</summary>
public sealed class PyNull : PyValue
{
    private PyNull()
    {
    }

    public static PyNull Instance { get; } = new();

    public override string ToString() => "null";
}
