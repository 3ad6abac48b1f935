using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Qmig.TestSupport;

/// <summary>
/// A certificate authority made for one test, and credentials directories it signs, in the layout
/// QEMU's <c>tls-creds-x509</c> reads. The certificates carry what QEMU checks of its own
/// credentials when it loads them: basic constraints, key usage and extended key usage.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly RSA _key;

    public TestCertificateAuthority(string name)
    {
        _key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>
    /// Writes <c>ca-cert.pem</c> (this authority, then <paramref name="alsoTrusted"/>), a server
    /// certificate for <paramref name="names"/> and a client certificate into <paramref name="directory"/>.
    /// </summary>
    public string WriteCredentials(string directory, string[] names, params TestCertificateAuthority[] alsoTrusted)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "ca-cert.pem"), string.Concat(alsoTrusted.Prepend(this).Select(ca => ca.CertificatePem + "\n")));
        WritePair(directory, "server", names, new Oid("1.3.6.1.5.5.7.3.1", "serverAuth"));
        WritePair(directory, "client", ["qmig-test-client"], new Oid("1.3.6.1.5.5.7.3.2", "clientAuth"));
        return directory;
    }

    private void WritePair(string directory, string role, string[] names, Oid purpose)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={names[0]}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([purpose], critical: true));
        var alternative = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                alternative.AddIpAddress(address);
            }
            else
            {
                alternative.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(alternative.Build());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var signed = request.Create(_certificate, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(20), serial);
        File.WriteAllText(Path.Combine(directory, role + "-cert.pem"), signed.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(directory, role + "-key.pem"), key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }
}
