using Qmig.Postcopy.Source;
using Qmig.TestSupport;
using Xunit.Abstractions;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>When the postcopy-preempt connection opens relative to the main stream's first bytes.</summary>
public sealed class PreemptConnectOrderTests(ITestOutputHelper output)
{
    /// <summary>
    /// On a plain connection the default order opens the preempt connection before the main stream's first
    /// byte, which a 7.2 destination needs and a 10.x one takes, so neither waits for a PONG that a 7.2
    /// destination does not send before it has both connections.
    /// </summary>
    [Theory]
    [InlineData(PreemptConnectOrder.Auto)]
    [InlineData(PreemptConnectOrder.WithMainConnection)]
    public async Task OnAPlainConnectionThePreemptConnectionOpensBeforeTheMainStreamsFirstByte(PreemptConnectOrder order)
    {
        var guest = new InMemoryGuest(5, ("pc.ram", 16));
        using var connection = await Loopback.ConnectedPairAsync();

        int? mainBytesBeforePreempt = null;
        var source = new PostcopySource(guest, new PostcopySourceOptions { Preempt = true, PreemptOrder = order });
        var migration = source.MigrateAsync(connection.Client, _ =>
        {
            mainBytesBeforePreempt = connection.Accepted.Available;
            // Ends the migration here: the order is all this test looks at.
            throw new IOException("no preempt connection in this test");
        });

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => migration.WaitAsync(TimeSpan.FromSeconds(60)));
        output.WriteLine(failure.Message);
        Assert.Equal(0, mainBytesBeforePreempt);
    }
}
