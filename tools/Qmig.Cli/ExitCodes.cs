namespace Qmig.Cli;

/// <summary>qmig's exit codes, the same for every verb.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The stream is invalid, or check/diff found problems.</summary>
    public const int Invalid = 1;

    /// <summary>Bad command line, or the input could not be opened or written.</summary>
    public const int UsageOrIo = 2;

    /// <summary>A valid stream that uses a feature qmig does not support yet.</summary>
    public const int Unsupported = 3;

    /// <summary>A migration failed: for receive, the connection dropped or the source sent what the destination refuses; for serve, the destination refused or went away.</summary>
    public const int MigrationFailed = 4;
}
