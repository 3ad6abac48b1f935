namespace Qmig.Postcopy.Tls;

/// <summary>Which end of the TLS session credentials are for, as QEMU's <c>tls-creds-x509</c> <c>endpoint</c> property.</summary>
public enum MigrationTlsEndpoint
{
    /// <summary>The side that accepts: a destination. Presents <c>server-cert.pem</c>.</summary>
    Server,

    /// <summary>The side that connects: a source. Presents <c>client-cert.pem</c> when the directory has one.</summary>
    Client,
}
