using FsCheck.Xunit;
using Qmig.Wire.Machines;
using Qmig.TestSupport.Machines;
using Xunit;
using G = Qmig.Wire.Machines.MigrationStatusSourceMachine.GuardSet;
using M = Qmig.Wire.Machines.MigrationStatusSourceMachine;
using S = Qmig.Wire.Machines.MigrationStatusSourceMachine.State;
using T = Qmig.Wire.Machines.MigrationStatusSourceMachine.Trigger;

namespace Qmig.Wire.Tests.StateMachines;

public class MigrationStatusSourceMachineTests
{
    private const int UnplugPending = 1, PauseBeforeSwitchover = 2, WaitsForPackage = 4, RecoverSetup = 8, CancelInPostcopy = 16;

    // spec/machines/migration_status.fsm.yaml (first document), copied by hand, in spec order.
    private static readonly ReferenceMachine<S, T> Reference = new ReferenceMachine<S, T>(16, 18)
        .Add(S.None, T.Migrate, S.Setup)
        .Add(S.Setup, T.SetupDone, S.WaitUnplug, UnplugPending)
        .Add(S.Setup, T.SetupDone, S.Active)
        .Add(S.Setup, T.SnapshotDone, S.Completed)
        .Add(S.Setup, T.Fail, S.Failed)
        .Add(S.Setup, T.Cancel, S.Cancelling)
        .Add(S.WaitUnplug, T.UnplugDone, S.Active)
        .Add(S.WaitUnplug, T.Cancel, S.Cancelling)
        .Add(S.Active, T.Switchover, S.PreSwitchover, PauseBeforeSwitchover)
        .Add(S.Active, T.Switchover, S.Device)
        .Add(S.Active, T.Complete, S.Completed)
        .Add(S.Active, T.PostcopyStart, S.PostcopyActive)
        .Add(S.Active, T.ColoStart, S.Colo)
        .Add(S.Active, T.Fail, S.Failed)
        .Add(S.Active, T.Cancel, S.Cancelling)
        .Add(S.PreSwitchover, T.MigrateContinue, S.Device)
        .Add(S.PreSwitchover, T.PostcopyStart, S.PostcopyActive)
        .Add(S.PreSwitchover, T.Fail, S.Failed)
        .Add(S.PreSwitchover, T.Cancel, S.Cancelling)
        .Add(S.Device, T.Complete, S.Completed)
        .Add(S.Device, T.PostcopyStart, S.PostcopyDevice, WaitsForPackage)
        .Add(S.Device, T.PostcopyStart, S.PostcopyActive)
        .Add(S.Device, T.ColoStart, S.Colo)
        .Add(S.Device, T.Fail, S.Failed)
        .Add(S.Device, T.Cancel, S.Cancelling)
        .Add(S.PostcopyDevice, T.PackageLoaded, S.PostcopyActive)
        .Add(S.PostcopyDevice, T.Fail, S.Failed)
        .Add(S.PostcopyActive, T.Complete, S.Completed)
        .Add(S.PostcopyActive, T.Fail, S.Failed)
        .Add(S.PostcopyActive, T.LinkLost, S.PostcopyPaused)
        .Add(S.PostcopyActive, T.Cancel, S.Cancelling, CancelInPostcopy)
        .Add(S.PostcopyPaused, T.MigrateResume, S.PostcopyRecoverSetup, RecoverSetup)
        .Add(S.PostcopyPaused, T.MigrateResume, S.PostcopyRecover)
        .Add(S.PostcopyPaused, T.Cancel, S.Cancelling, CancelInPostcopy)
        .Add(S.PostcopyRecoverSetup, T.Reconnected, S.PostcopyRecover)
        .Add(S.PostcopyRecoverSetup, T.LinkLost, S.PostcopyPaused)
        .Add(S.PostcopyRecover, T.ResumeAck, S.PostcopyActive)
        .Add(S.PostcopyRecover, T.LinkLost, S.PostcopyPaused)
        .Add(S.PostcopyRecover, T.Cancel, S.Cancelling, CancelInPostcopy)
        .Add(S.Colo, T.Failover, S.Completed)
        .Add(S.Cancelling, T.Cleanup, S.Cancelled);

    [Property(MaxTest = 1000)]
    public bool TryFire_agrees_with_the_reference_model(byte start, byte[] steps) =>
        Reference.Agrees(start, steps, static (ref S state, T trigger, byte guards) =>
            guards == 0 ? M.TryFire(ref state, trigger) : M.TryFire(ref state, trigger, (G)guards));

    [Fact]
    public void Every_state_and_trigger_pair_agrees_with_the_reference_model() =>
        MachineAssert.AllPairsAgree(Reference, M.TryFire, M.Fire, M.GetName, M.GetName, M.Name);

    [Fact]
    public void Every_cell_under_every_guard_subset_agrees_with_the_reference_model() =>
        MachineAssert.AllGuardedCellsAgree(Reference, static (ref S state, T trigger, byte guards) => M.TryFire(ref state, trigger, (G)guards), guardCount: 5);

    [Fact]
    public void The_guard_bits_are_the_ones_the_reference_uses()
    {
        Assert.Equal(
            (UnplugPending, PauseBeforeSwitchover, WaitsForPackage, RecoverSetup, CancelInPostcopy),
            ((int)G.UnplugPending, (int)G.PauseBeforeSwitchover, (int)G.WaitsForPackage, (int)G.RecoverSetup, (int)G.CancelInPostcopy));
    }

    [Fact]
    public void Postcopy_recovery_in_10_2_passes_through_recover_setup()
    {
        var state = S.PostcopyPaused;
        Assert.True(M.TryFire(ref state, T.MigrateResume, G.RecoverSetup));
        Assert.Equal(S.PostcopyRecoverSetup, state);
        Assert.Equal("postcopy-recover-setup", M.GetQemuName(state));

        // 7.2: no guard, straight to postcopy-recover.
        Assert.Equal(S.PostcopyRecover, M.Fire(S.PostcopyPaused, T.MigrateResume));
    }

    [Fact]
    public void Cancel_during_postcopy_is_refused_unless_the_7_2_guard_holds()
    {
        var ex = Assert.Throws<InvalidTransitionException>(() => M.Fire(S.PostcopyActive, T.Cancel, G.RecoverSetup));
        Assert.Equal(("migration_status_source", "postcopy_active", "cancel"), (ex.Machine, ex.State, ex.Trigger));
        Assert.Equal(S.Cancelling, M.Fire(S.PostcopyActive, T.Cancel, G.CancelInPostcopy));
    }
}
