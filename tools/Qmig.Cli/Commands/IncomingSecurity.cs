using System.Net.Sockets;
using Qmig.Postcopy.Tls;

namespace Qmig.Cli.Commands;

/// <summary>
/// What every connection a listening verb accepts goes through before its first migration byte is
/// read: nothing without <c>--tls-creds</c>; with it, the TLS handshake, after which the connection
/// is the plaintext end of a <see cref="TlsSocketBridge"/>.
/// </summary>
internal sealed class IncomingSecurity(MigrationTlsCredentials? credentials, TimeSpan handshakeLimit)
{
    /// <summary>The connection to read the migration from; throws <see cref="MigrationTlsException"/> (having closed it) when TLS fails.</summary>
    public Socket Secure(Socket accepted) => credentials is null
        ? accepted
        : TlsSocketBridge.Open(MigrationTls.AcceptAsync(accepted, credentials, handshakeLimit).GetAwaiter().GetResult());
}
