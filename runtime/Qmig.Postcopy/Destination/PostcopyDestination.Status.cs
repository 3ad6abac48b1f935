using Qmig.Wire.Machines;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The destination's MigrationStatus, moved through the generated migration_status_destination
/// machine (spec/machines/migration_status.fsm.yaml): active while loading, postcopy-active from
/// LISTEN, postcopy-paused when the link breaks, postcopy-recover once the source reconnects,
/// postcopy-active again at POSTCOPY_RESUME, then completed or failed. A move the machine refuses
/// (RECV_BITMAP or POSTCOPY_RESUME outside a recovery, say) fails the migration.
/// </summary>
public sealed partial class PostcopyDestination
{
    private MigrationStatusDestinationMachine.State _status = MigrationStatusDestinationMachine.Initial;

    /// <summary>The destination's migration status, by the generated machine.</summary>
    public MigrationStatusDestinationMachine.State Status => _status;

    private bool InStatus(MigrationStatusDestinationMachine.State status) => _status == status;

    private void MoveStatus(MigrationStatusDestinationMachine.Trigger trigger, string what)
    {
        var from = _status;
        if (!MigrationStatusDestinationMachine.TryFire(ref _status, trigger))
        {
            throw Lost($"{what} is not allowed in migration status {MigrationStatusDestinationMachine.GetQemuName(from)}");
        }

        if (_status != from)
        {
            _logger.Status(from, _status, what);
        }
    }

    /// <summary>Marks the migration failed where the machine allows it; the failure itself is reported by the caller.</summary>
    private void MarkFailed() => MigrationStatusDestinationMachine.TryFire(ref _status, MigrationStatusDestinationMachine.Trigger.Fail);
}
