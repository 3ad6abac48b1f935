using FsCheck.Xunit;
using Qmig.Wire.Machines;
using Qmig.TestSupport.Machines;
using Xunit;
using G = Qmig.Wire.Machines.MigrationStatusDestinationMachine.GuardSet;
using M = Qmig.Wire.Machines.MigrationStatusDestinationMachine;
using S = Qmig.Wire.Machines.MigrationStatusDestinationMachine.State;
using T = Qmig.Wire.Machines.MigrationStatusDestinationMachine.Trigger;

namespace Qmig.Wire.Tests.StateMachines;

public class MigrationStatusDestinationMachineTests
{
    private const int WaitsForPackage = 1;

    // spec/machines/migration_status.fsm.yaml (second document), copied by hand, in spec order.
    private static readonly ReferenceMachine<S, T> Reference = new ReferenceMachine<S, T>(10, 11)
        .Add(S.None, T.Prepare, S.Setup)
        .Add(S.None, T.LoadStart, S.Active)
        .Add(S.Setup, T.LoadStart, S.Active)
        .Add(S.Active, T.Complete, S.Completed)
        .Add(S.Active, T.Fail, S.Failed)
        .Add(S.Active, T.Listen, S.PostcopyDevice, WaitsForPackage)
        .Add(S.Active, T.Listen, S.PostcopyActive)
        .Add(S.Active, T.ColoStart, S.Colo)
        .Add(S.PostcopyDevice, T.Run, S.PostcopyActive)
        .Add(S.PostcopyDevice, T.Fail, S.Failed)
        .Add(S.PostcopyActive, T.Complete, S.Completed)
        .Add(S.PostcopyActive, T.Fail, S.Failed)
        .Add(S.PostcopyActive, T.LinkLost, S.PostcopyPaused)
        .Add(S.PostcopyPaused, T.Reconnected, S.PostcopyRecover)
        .Add(S.PostcopyRecover, T.PostcopyResume, S.PostcopyActive)
        .Add(S.PostcopyRecover, T.LinkLost, S.PostcopyPaused)
        .Add(S.Colo, T.Failover, S.Completed);

    [Property(MaxTest = 1000)]
    public bool TryFire_agrees_with_the_reference_model(byte start, byte[] steps) =>
        Reference.Agrees(start, steps, static (ref S state, T trigger, byte guards) =>
            guards == 0 ? M.TryFire(ref state, trigger) : M.TryFire(ref state, trigger, (G)guards));

    [Fact]
    public void Every_state_and_trigger_pair_agrees_with_the_reference_model() =>
        MachineAssert.AllPairsAgree(Reference, M.TryFire, M.Fire, M.GetName, M.GetName, M.Name);

    [Fact]
    public void Every_cell_under_every_guard_subset_agrees_with_the_reference_model() =>
        MachineAssert.AllGuardedCellsAgree(Reference, static (ref S state, T trigger, byte guards) => M.TryFire(ref state, trigger, (G)guards), guardCount: 1);

    [Fact]
    public void Listen_with_a_return_path_in_10_2_waits_in_postcopy_device_until_run()
    {
        var state = M.Fire(M.Fire(M.Initial, T.Prepare), T.LoadStart);
        state = M.Fire(state, T.Listen, G.WaitsForPackage);
        Assert.Equal(S.PostcopyDevice, state);
        Assert.Equal(S.PostcopyActive, M.Fire(state, T.Run));

        // 7.2 (or no return path): LISTEN goes straight to postcopy-active, and RUN changes no status.
        Assert.Equal(S.PostcopyActive, M.Fire(S.Active, T.Listen));
        Assert.Equal((int)WaitsForPackage, (int)G.WaitsForPackage);
    }
}
