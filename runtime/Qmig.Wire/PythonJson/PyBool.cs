namespace Qmig.Wire.PythonJson;

/// <summary>JSON true and false.</summary>
public sealed class PyBool : PyValue
{
    private PyBool(bool value) => Value = value;

    /// <summary>JSON <c>true</c>; shared, since a boolean carries nothing else.</summary>
    public static PyBool True { get; } = new(true);

    /// <summary>JSON <c>false</c>; shared, since a boolean carries nothing else.</summary>
    public static PyBool False { get; } = new(false);

    /// <summary>The boolean itself.</summary>
    public bool Value { get; }

    /// <summary>The shared instance for <paramref name="value"/>, so building a document allocates no booleans.</summary>
    public static PyBool Of(bool value) => value ? True : False;

    /// <summary>The value as JSON spells it.</summary>
    public override string ToString() => Value ? "true" : "false";
}
