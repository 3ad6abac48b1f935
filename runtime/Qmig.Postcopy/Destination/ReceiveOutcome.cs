namespace Qmig.Postcopy.Destination;

/// <summary>How one call of <see cref="PostcopyDestination.ReceiveAsync(Stream, CancellationToken)"/> ended.</summary>
public enum ReceiveOutcome
{
    /// <summary>The stream ended properly; every page is here and SHUT 0 was sent.</summary>
    Completed,

    /// <summary>
    /// The connection broke during postcopy and <see cref="DestinationOptions.Recover"/> is on: call
    /// ReceiveAsync again with the source's resumed connection.
    /// </summary>
    Paused,
}
