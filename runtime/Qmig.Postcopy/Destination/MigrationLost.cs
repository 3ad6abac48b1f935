namespace Qmig.Postcopy.Destination;

/// <summary>
/// Builds the exception that fails the migration, with where the stream was and what the failure
/// costs the guest; the parts of a destination throw it without knowing the migration's state.
/// </summary>
internal delegate DestinationException MigrationLost(string reason, Exception? inner = null);
