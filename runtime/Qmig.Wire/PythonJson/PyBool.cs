namespace Qmig.Wire.PythonJson;

/// <summary>JSON true and false.</summary>
public sealed class PyBool : PyValue
{
    private PyBool(bool value) => Value = value;

    public static PyBool True { get; } = new(true);

    public static PyBool False { get; } = new(false);

    public bool Value { get; }

    public static PyBool Of(bool value) => value ? True : False;

    public override string ToString() => Value ? "true" : "false";
}
