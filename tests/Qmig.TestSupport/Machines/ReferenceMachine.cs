using System.Runtime.CompilerServices;

namespace Qmig.TestSupport.Machines;

/// <summary>One step of a generated machine, with the guard bits the walk chose (0 = plain TryFire).</summary>
public delegate bool GeneratedStep<TState, TTrigger>(ref TState state, TTrigger trigger, byte guards);

/// <summary>
/// The obvious model of a machine: a list of rules copied by hand from the spec, searched linearly.
/// Guarded rules (guard bit != 0) win, in spec order, when their bit is satisfied; otherwise the
/// unguarded rule applies. Values outside the declared enums match no rule, so they are refused.
/// </summary>
public sealed class ReferenceMachine<TState, TTrigger>(int stateCount, int triggerCount)
    where TState : unmanaged, Enum
    where TTrigger : unmanaged, Enum
{
    private readonly List<(TState From, TTrigger Trigger, int Guard, TState To)> _rules = new();

    public int StateCount => stateCount;

    public int TriggerCount => triggerCount;

    public IEnumerable<(TState From, TTrigger Trigger, int Guard, TState To)> Rules => _rules;

    public ReferenceMachine<TState, TTrigger> Add(TState from, TTrigger trigger, TState to, int guard = 0)
    {
        _rules.Add((from, trigger, guard, to));
        return this;
    }

    public bool TryFire(ref TState state, TTrigger trigger, int satisfied)
    {
        foreach (var rule in _rules)
        {
            if (rule.Guard != 0 && (rule.Guard & satisfied) != 0 && Matches(rule, state, trigger))
            {
                state = rule.To;
                return true;
            }
        }

        foreach (var rule in _rules)
        {
            if (rule.Guard == 0 && Matches(rule, state, trigger))
            {
                state = rule.To;
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Applies the same steps to the generated machine and to this model from the same start and
    /// answers whether every accept/reject answer and every resulting state agreed. Each step is two
    /// bytes, trigger then guard bits (bytes, because FsCheck draws them uniformly, while its wider
    /// integers stay small at small sizes and would never set a high guard bit). Most values are in
    /// range and a few are not, as after a cast from untrusted input.
    /// </summary>
    public bool Agrees(byte start, byte[]? steps, GeneratedStep<TState, TTrigger> generated)
    {
        steps ??= Array.Empty<byte>();
        var expected = Enum<TState>(start < 224 ? (byte)(start % stateCount) : start);
        var actual = expected;
        for (var i = 0; i + 1 < steps.Length; i += 2)
        {
            var trigger = Enum<TTrigger>(steps[i] < 240 ? (byte)(steps[i] % triggerCount) : steps[i]);
            var guards = steps[i + 1] < 0x40 ? (byte)0 : steps[i + 1]; // a quarter of the steps use the unguarded overload

            var modelAccepted = TryFire(ref expected, trigger, guards);
            var generatedAccepted = generated(ref actual, trigger, guards);
            if (modelAccepted != generatedAccepted || !EqualityComparer<TState>.Default.Equals(expected, actual))
            {
                return false;
            }
        }

        return true;
    }

    public static T Enum<T>(byte value)
        where T : unmanaged, Enum => Unsafe.As<byte, T>(ref value);

    private static bool Matches((TState From, TTrigger Trigger, int Guard, TState To) rule, TState state, TTrigger trigger) =>
        EqualityComparer<TState>.Default.Equals(rule.From, state) && EqualityComparer<TTrigger>.Default.Equals(rule.Trigger, trigger);
}
