using FsCheck.Xunit;
using Qmig.Wire.Machines;
using Qmig.TestSupport.Machines;
using Xunit;
using S = Qmig.Wire.Machines.PostcopyMachine.State;
using T = Qmig.Wire.Machines.PostcopyMachine.Trigger;

namespace Qmig.Wire.Tests.StateMachines;

public class PostcopyMachineTests
{
    // spec/machines/postcopy.fsm.yaml, copied by hand (qemu-migration-format.md §5.8, §10.2).
    private static readonly ReferenceMachine<S, T> Reference = new ReferenceMachine<S, T>(6, 5)
        .Add(S.None, T.Advise, S.Advise)
        .Add(S.Advise, T.RamDiscard, S.Discard)
        .Add(S.Discard, T.RamDiscard, S.Discard)
        .Add(S.Advise, T.Listen, S.Listening)
        .Add(S.Discard, T.Listen, S.Listening)
        .Add(S.Listening, T.Run, S.Running)
        .Add(S.Running, T.End, S.End);

    [Property(MaxTest = 500)]
    public bool TryFire_agrees_with_the_reference_model(byte start, byte[] steps) =>
        Reference.Agrees(start, steps, static (ref S state, T trigger, byte _) => PostcopyMachine.TryFire(ref state, trigger));

    [Fact]
    public void Every_state_and_trigger_pair_agrees_with_the_reference_model() =>
        MachineAssert.AllPairsAgree(Reference, PostcopyMachine.TryFire, PostcopyMachine.Fire, PostcopyMachine.GetName, PostcopyMachine.GetName, PostcopyMachine.Name);

    [Fact]
    public void The_normal_postcopy_sequence_ends_in_a_terminal_state()
    {
        var state = PostcopyMachine.Initial;
        foreach (var trigger in new[] { T.Advise, T.RamDiscard, T.RamDiscard, T.Listen, T.Run, T.End })
        {
            state = PostcopyMachine.Fire(state, trigger);
        }

        Assert.Equal(S.End, state);
        Assert.True(PostcopyMachine.IsTerminal(state));
        Assert.Equal("POSTCOPY_INCOMING_END", PostcopyMachine.GetQemuName(state));
    }

    [Fact]
    public void Listen_before_advise_is_an_error_naming_both()
    {
        var ex = Assert.Throws<InvalidTransitionException>(() => PostcopyMachine.Fire(PostcopyMachine.Initial, T.Listen));
        Assert.Equal(("postcopy", "none", "listen"), (ex.Machine, ex.State, ex.Trigger));
        Assert.Equal("Machine 'postcopy': trigger 'listen' is not allowed in state 'none'.", ex.Message);
    }

    [Fact]
    public void Out_of_range_values_are_refused_not_read_out_of_bounds()
    {
        var state = (S)200;
        Assert.False(PostcopyMachine.TryFire(ref state, T.Advise));
        Assert.Equal((S)200, state);

        state = S.None;
        Assert.False(PostcopyMachine.TryFire(ref state, (T)5));
        Assert.False(PostcopyMachine.TryFire(ref state, (T)255));
        Assert.Equal(S.None, state);

        var ex = Assert.Throws<InvalidTransitionException>(() => PostcopyMachine.Fire((S)200, (T)77));
        Assert.Equal(("200", "77"), (ex.State, ex.Trigger));
    }
}
