using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Qmig.Postcopy.Tls;

/// <summary>
/// X.509 credentials read from a directory laid out as QEMU's <c>tls-creds-x509</c> object reads
/// one: <c>ca-cert.pem</c> (the authorities a peer's certificate must chain to), and
/// <c>server-cert.pem</c> with <c>server-key.pem</c> for a server or <c>client-cert.pem</c> with
/// <c>client-key.pem</c> for a client. The same directory therefore works for qmig and for the QEMU
/// on the other end, as it does for libvirt's <c>virsh migrate --tls</c>.
/// </summary>
/// <remarks>
/// Peer verification is on by default, as QEMU's <c>verify-peer</c>: a server requires a client
/// certificate that chains to <c>ca-cert.pem</c>; a client requires the server's to chain to it
/// and to name the host it connected to. A client certificate is optional, as in QEMU, because only
/// a server with verify-peer asks for one.
/// </remarks>
public sealed class MigrationTlsCredentials : IDisposable
{
    private MigrationTlsCredentials(string directory, MigrationTlsEndpoint endpoint, bool verifyPeer, X509Certificate2Collection authorities, X509Certificate2? certificate, X509Certificate2Collection intermediates)
    {
        Directory = directory;
        Endpoint = endpoint;
        VerifyPeer = verifyPeer;
        Authorities = authorities;
        Certificate = certificate;
        Intermediates = intermediates;
    }

    /// <summary>The directory the files were read from, for messages.</summary>
    public string Directory { get; }

    /// <summary>Which side of the handshake these credentials are for, and so which certificate files were read.</summary>
    public MigrationTlsEndpoint Endpoint { get; }

    /// <summary>Whether the peer's certificate is required and checked (QEMU's <c>verify-peer</c>).</summary>
    public bool VerifyPeer { get; }

    /// <summary>The certificates of <c>ca-cert.pem</c>: the only roots a peer's certificate may chain to.</summary>
    public X509Certificate2Collection Authorities { get; }

    /// <summary>This end's certificate with its private key; null for a client without <c>client-cert.pem</c>.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Further certificates after the first in the certificate file, sent along to complete the chain.</summary>
    public X509Certificate2Collection Intermediates { get; }

    /// <summary>The file name of this end's certificate in QEMU's layout.</summary>
    public string CertificateFileName => Endpoint == MigrationTlsEndpoint.Server ? "server-cert.pem" : "client-cert.pem";

    /// <summary>Reads the credentials for <paramref name="endpoint"/> from <paramref name="directory"/>.</summary>
    /// <exception cref="MigrationTlsException">A file that the endpoint needs is missing or cannot be read.</exception>
    public static MigrationTlsCredentials Load(string directory, MigrationTlsEndpoint endpoint, bool verifyPeer = true)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new MigrationTlsException($"the TLS credentials directory {directory} does not exist");
        }

        var authorities = new X509Certificate2Collection();
        var caPath = Path.Combine(directory, "ca-cert.pem");
        if (File.Exists(caPath))
        {
            Read(caPath, () => authorities.ImportFromPemFile(caPath));
            if (authorities.Count == 0)
            {
                throw new MigrationTlsException($"{caPath} holds no certificate");
            }
        }
        else if (verifyPeer)
        {
            throw new MigrationTlsException($"{caPath} is missing: verifying the peer needs the certificate authority it must chain to");
        }

        var prefix = endpoint == MigrationTlsEndpoint.Server ? "server" : "client";
        var certPath = Path.Combine(directory, prefix + "-cert.pem");
        var keyPath = Path.Combine(directory, prefix + "-key.pem");
        X509Certificate2? certificate = null;
        var intermediates = new X509Certificate2Collection();
        if (File.Exists(certPath) || endpoint == MigrationTlsEndpoint.Server)
        {
            if (!File.Exists(certPath) || !File.Exists(keyPath))
            {
                throw new MigrationTlsException($"{(File.Exists(certPath) ? keyPath : certPath)} is missing: a {prefix} presents {prefix}-cert.pem with its key {prefix}-key.pem");
            }

            certificate = Read(certPath, () => X509Certificate2.CreateFromPemFile(certPath, keyPath));
            var all = new X509Certificate2Collection();
            Read(certPath, () => all.ImportFromPemFile(certPath));
            foreach (var further in all.Skip(1))
            {
                intermediates.Add(further);
            }
        }

        return new MigrationTlsCredentials(Path.GetFullPath(directory), endpoint, verifyPeer, authorities, certificate, intermediates);
    }

    private static void Read(string path, Action read) => Read(path, () =>
    {
        read();
        return true;
    });

    private static T Read<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new MigrationTlsException($"cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary>Releases the certificates and this end's private key; call it once no further connection is to be set up with them.</summary>
    public void Dispose()
    {
        Certificate?.Dispose();
        foreach (var certificate in Authorities.Concat(Intermediates))
        {
            certificate.Dispose();
        }
    }
}
