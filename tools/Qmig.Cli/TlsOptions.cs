using System.CommandLine;
using Qmig.Postcopy.Tls;

namespace Qmig.Cli;

/// <summary>
/// <c>--tls-creds DIR</c> and <c>--tls-verify-peer</c> (and for a connecting verb <c>--tls-hostname</c>),
/// named and read as QEMU's <c>tls-creds-x509</c> object and migration parameters, so one
/// credentials directory serves qmig and the QEMU on the other end.
/// </summary>
internal sealed class TlsOptions
{
    private readonly Option<DirectoryInfo?> _creds = new("--tls-creds")
    {
        Description = "Use TLS on every connection, with x509 credentials in QEMU's layout: ca-cert.pem, and server-cert.pem/server-key.pem (receive) or client-cert.pem/client-key.pem (serve)",
    };

    private readonly Option<bool> _verifyPeer = new("--tls-verify-peer")
    {
        Description = "Require the peer's certificate to chain to ca-cert.pem (and, for serve, to name the host), as QEMU's verify-peer; false turns it off",
        DefaultValueFactory = _ => true,
        Arity = ArgumentArity.ZeroOrOne,
    };

    private readonly Option<string?>? _hostname;

    private TlsOptions(bool connecting)
    {
        if (connecting)
        {
            _hostname = new Option<string?>("--tls-hostname")
            {
                Description = "The name the destination's certificate must carry (default: the host of --to)",
            };
        }
    }

    /// <summary>For a verb that accepts connections (the TLS server).</summary>
    public static TlsOptions ForAccepting() => new(connecting: false);

    /// <summary>For a verb that connects (the TLS client).</summary>
    public static TlsOptions ForConnecting() => new(connecting: true);

    public IEnumerable<Option> All => _hostname is null ? [_creds, _verifyPeer] : [_creds, _verifyPeer, _hostname];

    public string? Hostname(ParseResult result) => _hostname is null ? null : result.GetValue(_hostname);

    /// <summary>
    /// The credentials (null without <c>--tls-creds</c>); false, having said why on <paramref name="error"/>,
    /// for a directory that lacks what the endpoint needs.
    /// </summary>
    public bool TryLoad(ParseResult result, MigrationTlsEndpoint endpoint, TextWriter error, out MigrationTlsCredentials? credentials)
    {
        credentials = null;
        if (result.GetValue(_creds) is not { } directory)
        {
            return true;
        }

        try
        {
            credentials = MigrationTlsCredentials.Load(directory.FullName, endpoint, result.GetValue(_verifyPeer));
            return true;
        }
        catch (MigrationTlsException e)
        {
            error.WriteLine($"qmig: --tls-creds: {e.Message}");
            return false;
        }
    }
}
