using Qmig.Wire.Machines;
using Xunit;

namespace Qmig.TestSupport.Machines;

public delegate bool TryFireFn<TState, TTrigger>(ref TState state, TTrigger trigger);

/// <summary>Exhaustive checks that complement the random walks: every (state, trigger) cell.</summary>
public static class MachineAssert
{
    /// <summary>
    /// For every cell, TryFire (no guards) agrees with the model, and Fire either returns the same
    /// state or throws an <see cref="InvalidTransitionException"/> naming machine, state and trigger.
    /// </summary>
    public static void AllPairsAgree<TState, TTrigger>(
        ReferenceMachine<TState, TTrigger> reference,
        TryFireFn<TState, TTrigger> tryFire,
        Func<TState, TTrigger, TState> fire,
        Func<TState, string> stateName,
        Func<TTrigger, string> triggerName,
        string machine)
        where TState : unmanaged, Enum
        where TTrigger : unmanaged, Enum
    {
        for (var s = 0; s < reference.StateCount; s++)
        {
            for (var t = 0; t < reference.TriggerCount; t++)
            {
                var state = ReferenceMachine<TState, TTrigger>.Enum<TState>((byte)s);
                var trigger = ReferenceMachine<TState, TTrigger>.Enum<TTrigger>((byte)t);

                var expected = state;
                var accepted = reference.TryFire(ref expected, trigger, 0);
                var actual = state;
                Assert.Equal(accepted, tryFire(ref actual, trigger));
                Assert.Equal(expected, actual);

                if (accepted)
                {
                    Assert.Equal(expected, fire(state, trigger));
                }
                else
                {
                    var ex = Assert.Throws<InvalidTransitionException>(() => fire(state, trigger));
                    Assert.Equal((machine, stateName(state), triggerName(trigger)), (ex.Machine, ex.State, ex.Trigger));
                    Assert.Contains("'" + stateName(state) + "'", ex.Message, StringComparison.Ordinal);
                    Assert.Contains("'" + triggerName(trigger) + "'", ex.Message, StringComparison.Ordinal);
                }
            }
        }
    }

    /// <summary>For every cell and every subset of the guards, the guarded TryFire agrees with the model.</summary>
    public static void AllGuardedCellsAgree<TState, TTrigger>(
        ReferenceMachine<TState, TTrigger> reference,
        GeneratedStep<TState, TTrigger> tryFire,
        int guardCount)
        where TState : unmanaged, Enum
        where TTrigger : unmanaged, Enum
    {
        for (var s = 0; s < reference.StateCount; s++)
        {
            for (var t = 0; t < reference.TriggerCount; t++)
            {
                for (var guards = 0; guards < 1 << guardCount; guards++)
                {
                    var expected = ReferenceMachine<TState, TTrigger>.Enum<TState>((byte)s);
                    var actual = expected;
                    var trigger = ReferenceMachine<TState, TTrigger>.Enum<TTrigger>((byte)t);
                    Assert.Equal(reference.TryFire(ref expected, trigger, guards), tryFire(ref actual, trigger, (byte)guards));
                    Assert.Equal(expected, actual);
                }
            }
        }
    }
}
