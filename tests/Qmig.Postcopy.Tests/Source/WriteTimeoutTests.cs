using Qmig.Postcopy.Source;
using Qmig.TestSupport;
using Qmig.Wire.Machines;
using Xunit.Abstractions;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>A destination that accepts the connection and then never reads must not hold the source for ever.</summary>
public sealed class WriteTimeoutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ADestinationThatStopsReadingFailsTheMigrationNamingTheStatusAndOffset()
    {
        // 16 MiB of mostly random pages: far more than the two small socket buffers hold.
        var guest = new InMemoryGuest(3, ("pc.ram", 4096));
        using var connection = await Loopback.ConnectedPairAsync(bufferBytes: 64 << 10);

        var source = new PostcopySource(guest, new PostcopySourceOptions { WriteTimeout = TimeSpan.FromSeconds(1) });
        var migration = source.MigrateAsync(connection.Client);

        // Generous against a loaded machine, but a hang fails here instead of never ending.
        var failure = await Assert.ThrowsAsync<PostcopySourceException>(() => migration.WaitAsync(TimeSpan.FromSeconds(60)));
        output.WriteLine(failure.Message);

        Assert.Equal(MigrationStatusSourceMachine.State.PostcopyActive, failure.Status);
        Assert.Contains("the destination stopped reading", failure.Message, StringComparison.Ordinal);
        Assert.Contains("status postcopy-active", failure.Message, StringComparison.Ordinal);
        // The offset is where the main connection stood: every byte before it was taken by the peer's socket.
        Assert.Contains($"at offset 0x{source.Stats.MainChannelBytes:x} of the main connection", failure.Message, StringComparison.Ordinal);
        Assert.True(source.Stats.MainChannelBytes > 0 && source.Stats.PagesSent < 4096, $"{source.Stats.MainChannelBytes} bytes, {source.Stats.PagesSent} pages");
        Assert.Equal(MigrationStatusSourceMachine.State.Failed, source.Status);
    }

    [Fact]
    public void AWriteTimeoutThatIsNeitherPositiveNorInfiniteIsRefused()
    {
        var guest = new InMemoryGuest(4, ("pc.ram", 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PostcopySource(guest, new PostcopySourceOptions { WriteTimeout = TimeSpan.Zero }));
    }
}
