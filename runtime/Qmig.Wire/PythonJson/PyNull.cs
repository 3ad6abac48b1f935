namespace Qmig.Wire.PythonJson;

/// <summary>JSON null (Python's None).</summary>
public sealed class PyNull : PyValue
{
    private PyNull()
    {
    }

    /// <summary>JSON <c>null</c>; one shared instance, since null carries nothing.</summary>
    public static PyNull Instance { get; } = new();

    /// <summary>The value as JSON spells it.</summary>
    public override string ToString() => "null";
}
