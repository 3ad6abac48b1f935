namespace Qmig.Postcopy.Destination;

/// <summary>How a <see cref="PostcopyDestination"/> receives.</summary>
public sealed class DestinationOptions
{
    /// <summary>The stand-in guest's workload after POSTCOPY_RUN.</summary>
    public TouchWorkload Touch { get; init; } = TouchWorkload.Sequential;

    /// <summary>How many stand-in vCPU threads run the workload.</summary>
    public int TouchThreads { get; init; } = 2;

    /// <summary>Where progress lines go (state changes, the end); null for none.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>Gets a copy of every return-path byte sent, for checking afterwards; null for none.</summary>
    public Stream? ReturnPathLog { get; init; }

    /// <summary>Seed of the random workload, so a run can be repeated.</summary>
    public int Seed { get; init; } = 1;
}
