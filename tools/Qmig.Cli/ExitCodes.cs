namespace Qmig.Cli;

/// <summary>The exit codes every verb uses (docs: architecture, "The qmig command line").</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>An invalid stream, or check/diff found problems.</summary>
    public const int Invalid = 1;

    /// <summary>A usage or I/O error: bad arguments, unknown names, unreadable files.</summary>
    public const int Usage = 2;

    /// <summary>A valid stream that uses a feature not supported yet.</summary>
    public const int Unsupported = 3;
}
