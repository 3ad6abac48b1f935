namespace Qmig.Wire.Streaming;

/// <summary>
/// Why a stream is invalid (or unsupported): the absolute byte offset, the record, the rule and a
/// sentence a person can act on. Built only on the error path.
/// </summary>
public sealed record MigrationError(long Offset, string Record, MigrationRule Rule, string Message)
{
    /// <summary>True when the stream may be valid but uses a feature this reader does not support (exit code 3), not corruption.</summary>
    public bool IsUnsupported => Rule == MigrationRules.Unsupported;

    /// <summary>As compilers print errors: <c>FILE:0xOFFSET: error QMIGnnnn: message</c>.</summary>
    public string Format(string file) => $"{file}:0x{Offset:x}: error {Rule.Id}: {Message} [{Record}]";

    /// <summary>The error formatted as if the stream were a file named <c>&lt;stream&gt;</c>.</summary>
    public override string ToString() => Format("<stream>");
}

/// <summary>Thrown by the convenience APIs that read a whole stream; carries the <see cref="MigrationError"/>.</summary>
public sealed class MigrationFormatException(MigrationError error) : Exception(error.ToString())
{
    /// <summary>The offset, record and rule of the failure, for a caller that reports it in its own format.</summary>
    public MigrationError Error { get; } = error;
}
