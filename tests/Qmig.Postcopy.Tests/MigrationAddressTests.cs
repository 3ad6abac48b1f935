using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Qmig.Postcopy.Tests;

public sealed class MigrationAddressTests
{
    [Theory]
    [InlineData("tcp:127.0.0.1:4444", "127.0.0.1:4444")]
    [InlineData("tcp::4444", "0.0.0.0:4444")]
    [InlineData("tcp:0.0.0.0:0", "0.0.0.0:0")]
    [InlineData("tcp:[::1]:4444", "[::1]:4444")]
    [InlineData("tcp:localhost:4444", "127.0.0.1:4444")]
    public void TcpAddressesParse(string text, string expected)
    {
        Assert.True(MigrationAddress.TryParse(text, out var address, out var problem), problem);
        Assert.Equal(expected, address.ToString());
    }

    [Fact]
    public void AUnixAddressIsItsPath()
    {
        Assert.True(MigrationAddress.TryParse("unix:/tmp/mig.sock", out var address, out _));
        Assert.Equal("/tmp/mig.sock", Assert.IsType<UnixDomainSocketEndPoint>(address).ToString());
    }

    [Theory]
    [InlineData("127.0.0.1:4444", "is not tcp:HOST:PORT or unix:PATH")]
    [InlineData("tcp:127.0.0.1", "has no port from 0 to 65535")]
    [InlineData("tcp:127.0.0.1:70000", "has no port from 0 to 65535")]
    [InlineData("tcp:no-such-host.invalid:4444", "cannot resolve the host 'no-such-host.invalid'")]
    public void ABadAddressSaysWhatIsWrongInsteadOfThrowing(string text, string expected)
    {
        Assert.False(MigrationAddress.TryParse(text, out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }
}
