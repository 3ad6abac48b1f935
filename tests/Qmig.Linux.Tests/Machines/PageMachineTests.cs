using FsCheck.Xunit;
using Qmig.Linux.Machines;
using Qmig.Wire.Machines;
using Qmig.TestSupport.Machines;
using Xunit;
using S = Qmig.Linux.Machines.PageMachine.State;
using T = Qmig.Linux.Machines.PageMachine.Trigger;

namespace Qmig.Linux.Tests.Machines;

public class PageMachineTests
{
    // spec/machines/page.fsm.yaml, copied by hand: the design note's four transitions and nothing else.
    private static readonly ReferenceMachine<S, T> Reference = new ReferenceMachine<S, T>(3, 3)
        .Add(S.Missing, T.Fault, S.Requested)
        .Add(S.Missing, T.Place, S.Received)
        .Add(S.Requested, T.Place, S.Received)
        .Add(S.Received, T.Discard, S.Missing);

    [Property(MaxTest = 500)]
    public bool TryFire_agrees_with_the_reference_model(byte start, byte[] steps) =>
        Reference.Agrees(start, steps, static (ref S state, T trigger, byte _) => PageMachine.TryFire(ref state, trigger));

    [Fact]
    public void Every_state_and_trigger_pair_agrees_with_the_reference_model() =>
        MachineAssert.AllPairsAgree(Reference, PageMachine.TryFire, PageMachine.Fire, PageMachine.GetName, PageMachine.GetName, PageMachine.Name);

    [Fact]
    public void The_shape_matches_the_spec()
    {
        Assert.Equal(3, PageMachine.StateCount);
        Assert.Equal(3, PageMachine.TriggerCount);
        Assert.Equal(9, PageMachine.Transitions.Length);
        Assert.Equal(S.Missing, PageMachine.Initial);
        Assert.False(PageMachine.IsTerminal(S.Received));
    }

    [Fact]
    public void Fire_names_the_machine_state_and_trigger_it_refuses()
    {
        var ex = Assert.Throws<InvalidTransitionException>(() => PageMachine.Fire(S.Received, T.Fault));
        Assert.Equal(("page", "received", "fault"), (ex.Machine, ex.State, ex.Trigger));
        Assert.Equal("Machine 'page': trigger 'fault' is not allowed in state 'received'.", ex.Message);
    }

    [Fact]
    public void The_page_machine_is_the_only_one_in_this_layers_catalog()
    {
        var page = Assert.Single(Qmig.Linux.Machines.MachineCatalog.All);
        Assert.Equal("page", page.Name);
        Assert.Same(page, Qmig.Linux.Machines.MachineCatalog.Find("PAGE"));
        Assert.Equal(4, page.Dot.Split('\n').Count(l => l.Contains("->", StringComparison.Ordinal)));
    }
}
