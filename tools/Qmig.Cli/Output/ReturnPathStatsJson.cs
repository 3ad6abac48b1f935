namespace Qmig.Cli.Output;

/// <summary>What <c>stats --return-path --format json</c> prints, in its order; <see cref="CliJson"/> writes it.</summary>
/// <param name="Messages">Counts by MIG_RP_MSG name, in name order.</param>
internal sealed record ReturnPathStatsDocument(string File, long? Size, long Consumed, IReadOnlyDictionary<string, long> Messages);
