namespace Qmig.Cli.Diff;

/// <summary>The command line of <c>qmig diff</c>.</summary>
internal sealed record DiffOptions(string A, string B, bool Json, string? VmdescA = null, string? VmdescB = null, int PageSize = 4096);
