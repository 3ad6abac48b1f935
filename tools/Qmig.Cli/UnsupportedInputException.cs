namespace Qmig.Cli;

/// <summary>An input qmig recognises but cannot read yet (exit code 3, as an unsupported stream feature).</summary>
internal sealed class UnsupportedInputException(string message) : IOException(message);
