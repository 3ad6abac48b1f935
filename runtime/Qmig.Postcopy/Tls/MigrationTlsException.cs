namespace Qmig.Postcopy.Tls;

/// <summary>
/// A TLS session could not be set up: credentials that cannot be loaded, a peer that speaks
/// plaintext, a certificate that does not verify, or a handshake cut off. The message says which
/// and what to change; nothing of the migration has been read or written when it is thrown.
/// </summary>
public sealed class MigrationTlsException : Exception
{
    /// <summary>A failure that <paramref name="message"/> describes, with what to change.</summary>
    public MigrationTlsException(string message)
        : base(message)
    {
    }

    /// <summary>A failure that <paramref name="inner"/> caused (a certificate that does not parse, a handshake error); <paramref name="message"/> names the file or peer.</summary>
    public MigrationTlsException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
