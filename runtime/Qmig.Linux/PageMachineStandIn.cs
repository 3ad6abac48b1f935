// TEMPORARY STAND-IN: replaced by the generated table when the fsm branch merges.
// The state-machine generator emits this exact API into Qmig.Wire (namespace Qmig.Wire.Machines) from
// spec/machines/page.fsm.yaml. When it lands, delete this file: Qmig.Linux already references Qmig.Wire,
// and keeping both would be a build error (CS0436/CS0433), which is the reminder.
// The four legal moves below are the design note's (docs/postcopy-design-2015.txt, "state transitions").
namespace Qmig.Wire.Machines;

public static partial class PageMachine
{
    public enum State : byte
    {
        Missing,
        Requested,
        Received,
    }

    public enum Trigger : byte
    {
        Fault,
        Place,
        Discard,
    }

    public const int StateCount = 3;
    public const int TriggerCount = 3;
    public const byte NoTransition = 0xFF;

    /// <summary>Index <c>state * TriggerCount + trigger</c>; the value is the target state or <see cref="NoTransition"/>.</summary>
    public static ReadOnlySpan<byte> Transitions =>
    [
        // Missing:   fault -> Requested, place -> Received, discard -> (none)
        (byte)State.Requested, (byte)State.Received, NoTransition,
        // Requested: fault -> (none),    place -> Received, discard -> (none)
        NoTransition, (byte)State.Received, NoTransition,
        // Received:  fault -> (none),    place -> (none),   discard -> Missing
        NoTransition, NoTransition, (byte)State.Missing,
    ];

    public static bool TryFire(ref State state, Trigger trigger)
    {
        byte target = Transitions[((int)state * TriggerCount) + (int)trigger];
        if (target == NoTransition)
        {
            return false;
        }

        state = (State)target;
        return true;
    }
}
