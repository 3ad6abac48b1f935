using Qmig.Wire.Streaming;

namespace Qmig.Cli;

/// <summary>An input file that breaks a rule before any stream is read (exit code 1), e.g. a --vmdesc file that cannot be decoded.</summary>
internal sealed class InvalidInputException(string file, MigrationError error) : Exception(error.Format(file))
{
    public MigrationError Error { get; } = error;
}
