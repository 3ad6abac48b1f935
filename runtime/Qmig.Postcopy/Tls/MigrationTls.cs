using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Qmig.Postcopy.Tls;

/// <summary>
/// TLS on a migration connection, interoperable with QEMU's <c>tls-creds</c> migration parameter:
/// every channel (main, return path, postcopy-preempt) is a TLS session of its own, set up right
/// after the TCP connection and before the first migration byte.
/// </summary>
public static class MigrationTls
{
    /// <summary>A TLS record of type handshake opens every TLS session a client starts.</summary>
    private const byte HandshakeRecord = 0x16;

    /// <summary>
    /// Waits for the peer's TLS handshake on an accepted connection and completes it as the server.
    /// A peer that sends plaintext instead (a source without <c>tls-creds</c>) is refused before
    /// anything it sent is read as migration data.
    /// </summary>
    /// <param name="connection">The accepted connection; the returned stream owns it, and it is closed when the session cannot be set up.</param>
    /// <param name="credentials">Server credentials.</param>
    /// <param name="handshakeLimit">How long the peer may take to handshake.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="MigrationTlsException">The peer spoke plaintext, its certificate did not verify, or the handshake failed.</exception>
    public static async Task<SslStream> AcceptAsync(Socket connection, MigrationTlsCredentials credentials, TimeSpan handshakeLimit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(credentials);
        if (credentials.Endpoint != MigrationTlsEndpoint.Server || credentials.Certificate is null)
        {
            throw new ArgumentException("accepting TLS needs server credentials (server-cert.pem)", nameof(credentials));
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(handshakeLimit);
        var peer = Describe(connection);
        try
        {
            await RefusePlaintextAsync(connection, peer, limit.Token).ConfigureAwait(false);
        }
        catch (MigrationTlsException)
        {
            connection.Dispose();
            throw;
        }

        string? refusal = null;
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(credentials.Certificate, credentials.Intermediates, offline: true),
            ClientCertificateRequired = credentials.VerifyPeer,
            CertificateChainPolicy = ChainPolicy(credentials),
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                refusal = credentials.VerifyPeer ? RefusalOf(certificate, chain, errors, credentials, PeerRole.Source, hostname: null) : null;
                return refusal is null;
            },
        };
        var tls = new SslStream(new NetworkStream(connection, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(options, limit.Token).ConfigureAwait(false);
            return tls;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or SocketException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw Failed(e, refusal, peer, "source", cancellationToken);
        }
    }

    /// <summary>
    /// Starts TLS as the client on a connection to a destination and checks that the destination's
    /// certificate chains to <c>ca-cert.pem</c> and names <paramref name="hostname"/>, as QEMU's
    /// source does with <c>tls-hostname</c> (or the host of the URI it migrates to).
    /// </summary>
    /// <param name="connection">The connected stream; the returned stream owns it, and it is closed when the session cannot be set up.</param>
    /// <param name="credentials">Client credentials.</param>
    /// <param name="hostname">The name the destination's certificate must carry.</param>
    /// <param name="cancellationToken">Stops the handshake.</param>
    /// <exception cref="MigrationTlsException">The destination's certificate did not verify or the handshake failed.</exception>
    public static async Task<SslStream> ConnectAsync(Stream connection, MigrationTlsCredentials credentials, string hostname, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentException.ThrowIfNullOrEmpty(hostname);
        if (credentials.Endpoint != MigrationTlsEndpoint.Client)
        {
            throw new ArgumentException("connecting with TLS needs client credentials", nameof(credentials));
        }

        string? refusal = null;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = hostname,
            CertificateChainPolicy = ChainPolicy(credentials),
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                refusal = credentials.VerifyPeer ? RefusalOf(certificate, chain, errors, credentials, PeerRole.Destination, hostname) : null;
                return refusal is null;
            },
        };
        if (credentials.Certificate is { } own)
        {
            options.ClientCertificateContext = SslStreamCertificateContext.Create(own, credentials.Intermediates, offline: true);
        }

        var tls = new SslStream(connection, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return tls;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw Failed(e, refusal, hostname, "destination", cancellationToken);
        }
    }

    /// <summary>Peeks at the first bytes: a TLS client's first record is a handshake.</summary>
    private static async Task RefusePlaintextAsync(Socket connection, string peer, CancellationToken cancellationToken)
    {
        var first = new byte[4];
        int have;
        try
        {
            have = await connection.ReceiveAsync(first, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            throw new MigrationTlsException($"{peer} connected but started no TLS handshake in time", e);
        }

        if (have == 0)
        {
            throw new MigrationTlsException($"{peer} closed the connection before starting a TLS handshake");
        }

        if (first[0] != HandshakeRecord)
        {
            var bytes = Convert.ToHexString(first, 0, have).ToLowerInvariant();
            var what = have == 4 && first.AsSpan().SequenceEqual("QEVM"u8)
                ? " (the magic of a QEMU migration stream: the source has no tls-creds set)"
                : string.Empty;
            throw new MigrationTlsException($"{peer} sent plaintext where a TLS handshake was expected: its first bytes are {bytes}{what}; refused before reading any of it");
        }
    }

    private static X509ChainPolicy ChainPolicy(MigrationTlsCredentials credentials)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(credentials.Authorities);
        policy.ExtraStore.AddRange(credentials.Authorities);
        return policy;
    }

    /// <summary>Why a peer's certificate is refused, or null when it is accepted.</summary>
    private static string? RefusalOf(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, MigrationTlsCredentials credentials, PeerRole peer, string? hostname)
    {
        var (side, kind) = peer == PeerRole.Source ? ("source", "client") : ("destination", "server");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || certificate is null)
        {
            return $"the {side} presented no certificate, and peer verification is on (its tls-creds directory needs {kind}-cert.pem)";
        }

        var subject = certificate.Subject;
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var statuses = chain is null ? "no chain" : string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct());
            return $"the {side}'s {kind} certificate '{subject}' does not chain to the certificate authority in {Path.Combine(credentials.Directory, "ca-cert.pem")} ({statuses})";
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return $"the {side}'s {kind} certificate '{subject}' is not for host '{hostname}' (its names: {string.Join(", ", NamesOf(certificate))}); connect by one of its names or set --tls-hostname";
        }

        return errors == SslPolicyErrors.None ? null : $"the {side}'s {kind} certificate '{subject}' is refused ({errors})";
    }

    private static IEnumerable<string> NamesOf(X509Certificate certificate)
    {
        using var full = new X509Certificate2(certificate);
        var names = full.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(san => san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(ip => ip.ToString())))
            .ToList();
        return names.Count > 0 ? names : [full.GetNameInfo(X509NameType.SimpleName, forIssuer: false)];
    }

    private static MigrationTlsException Failed(Exception e, string? refusal, string peer, string side, CancellationToken cancellationToken)
    {
        if (refusal is not null)
        {
            return new MigrationTlsException($"TLS with {peer} refused: {refusal}", e);
        }

        if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new MigrationTlsException($"the TLS handshake with {peer} did not complete in time", e);
        }

        var message = new StringBuilder($"the TLS handshake with {peer} failed: {e.Message}");
        if (e.InnerException is { } inner)
        {
            message.Append($" ({inner.Message})");
        }

        message.Append(e is IOException or SocketException
            ? $"; the {side} closed the connection during the handshake: is TLS (tls-creds) set on the {side}, and does it accept this certificate?"
            : string.Empty);
        return new MigrationTlsException(message.ToString(), e);
    }

    private enum PeerRole
    {
        Source,
        Destination,
    }

    private static string Describe(Socket connection)
    {
        try
        {
            return connection.RemoteEndPoint?.ToString() is { Length: > 0 } remote ? $"the peer at {remote}" : "the peer";
        }
        catch (SocketException)
        {
            return "the peer";
        }
    }
}
