using Xunit;

namespace Qmig.Cli.Tests;

/// <summary>An address qmig cannot use is a usage error with the reason, never an unhandled exception.</summary>
public sealed class AddressErrorTests
{
    private static readonly string Stream = Path.Combine(AppContext.BaseDirectory, "data", "pc-64m-running", "pc-64m-running.mig");

    [Theory]
    [InlineData("serve", "--to", "tcp:no-such-host.invalid:4444", "qmig: --to: cannot resolve the host 'no-such-host.invalid'")]
    [InlineData("serve", "--to", "udp:127.0.0.1:4444", "qmig: --to: 'udp:127.0.0.1:4444' is not tcp:HOST:PORT or unix:PATH")]
    [InlineData("receive", "--listen", "tcp:no-such-host.invalid:0", "qmig: --listen: cannot resolve the host 'no-such-host.invalid'")]
    [InlineData("receive", "--listen", "unix:/tmp/qmig-receive.sock", "qmig: --listen: receive listens on tcp:HOST:PORT")]
    [InlineData("proxy", "--to", "tcp:no-such-host.invalid:4444", "qmig: --to: cannot resolve the host 'no-such-host.invalid'")]
    public void AnAddressThatCannotBeUsedIsExit2WithTheReason(string verb, string option, string address, string expected)
    {
        string[] args = verb switch
        {
            "serve" => ["serve", Stream, option, address],
            "receive" => ["receive", option, address, "-o", Path.Combine(Path.GetTempPath(), "qmig-never-written.mig")],
            _ => ["proxy", "--listen", "tcp:127.0.0.1:0", option, address],
        };

        var (exit, _, stderr) = QmigProcess.Run(args);

        Assert.Equal(2, exit);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
    }
}
