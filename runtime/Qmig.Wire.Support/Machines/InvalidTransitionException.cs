namespace Qmig.Wire.Machines;

/// <summary>
/// A trigger was fired in a state that does not accept it. Carries the spec ids of the machine,
/// the state and the trigger, so a protocol error names all three.
/// </summary>
public sealed class InvalidTransitionException : global::System.InvalidOperationException
{
    /// <summary>Names the refused step by the spec ids of the machine, the state it was in and the trigger fired.</summary>
    public InvalidTransitionException(string machine, string state, string trigger)
        : base("Machine '" + machine + "': trigger '" + trigger + "' is not allowed in state '" + state + "'.")
    {
        Machine = machine;
        State = state;
        Trigger = trigger;
    }

    /// <summary>The machine's spec id, e.g. <c>postcopy</c>.</summary>
    public string Machine { get; }

    /// <summary>The state the machine was in, e.g. <c>none</c>.</summary>
    public string State { get; }

    /// <summary>The trigger that was refused, e.g. <c>listen</c>.</summary>
    public string Trigger { get; }
}
