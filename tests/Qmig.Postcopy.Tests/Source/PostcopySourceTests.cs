using System.Buffers.Binary;
using System.Text;
using Qmig.Postcopy.Source;
using Qmig.Wire;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>The source engine against a stand-in destination that reads its stream with our own reader.</summary>
public sealed class PostcopySourceTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    public async Task TheStreamHasTheDocumentedOrderAndEveryPageOnceWithItsContent(double precopySeconds)
    {
        var guest = new InMemoryGuest(1, ("pc.ram", 96), ("vga.vram", 16));
        using var destination = new ScriptedDestination();
        using var socket = await destination.ConnectAsync();
        var run = destination.RunAsync();
        // At 1 MB/s the precopy phase ends before every page went.
        var source = new PostcopySource(guest, new PostcopySourceOptions { PrecopyDuration = TimeSpan.FromSeconds(precopySeconds), MaxBandwidth = 1 << 20 });

        var stats = await Migrate(source, socket, destination, TimeSpan.FromSeconds(30));
        socket.Dispose();
        await run;

        Assert.Null(destination.StreamError);
        var events = destination.Events;
        var expectedStart = new[] { "header", "configuration pc-i440fx-7.2", "OpenReturnPath", "Ping 1", "PostcopyAdvise", "Ping 2", "SectionStart ram", "block pc.ram 393216", "block vga.vram 65536", "Ping 4" };
        Assert.Equal(expectedStart, events.Take(expectedStart.Length));
        var afterDiscards = events.Skip(expectedStart.Length).SkipWhile(e => e is "SectionPart ram" or "PostcopyRamDiscard").ToArray();
        Assert.True(events.Count(e => e == "PostcopyRamDiscard") >= 1, "no discard before LISTEN: " + string.Join(", ", events));
        Assert.Equal(["Packaged", "PostcopyListen", "SectionFull timer", "device timer 8", "Ping 3", "PostcopyRun", "SectionPart ram", "SectionEnd ram", "EOF"], afterDiscards);
        Assert.Equal(0u, stats.ShutStatus);
        Assert.Equal(Wire.Machines.MigrationStatusSourceMachine.State.Completed, source.Status);

        // Every target page exactly once in total; those sent in precopy were not dirtied, so not again.
        var all = destination.PrecopyPages.Concat(destination.PostcopyPages).ToArray();
        Assert.Equal(112, all.Length);
        Assert.Equal(112, all.Select(p => (p.Block, p.Offset)).Distinct().Count());
        foreach (var (block, offset, content) in all)
        {
            var index = block == "pc.ram" ? 0 : 1;
            var expected = guest.Page(index, (long)(offset / 4096));
            Assert.True(content.Length == 0 ? !expected.ContainsAnyExcept((byte)0) : expected.SequenceEqual(content), $"{block}+0x{offset:x} differs");
        }

        Assert.Equal(destination.PrecopyPages.Count, stats.PrecopyPages);
        Assert.Equal(precopySeconds > 0, stats.PrecopyPages > 0);
        Assert.Equal(0, guest.ReadsOutside);
    }

    [Fact]
    public async Task ARequestedPageIsServedOnceAndTheBackgroundContinuesAfterIt()
    {
        var guest = new InMemoryGuest(2, ("pc.ram", 2048));
        using var destination = new ScriptedDestination
        {
            AfterRun = d =>
            {
                d.Send(MigRpMsg.ReqPagesId, RequestPayload("pc.ram", 1500 * 4096, 4096));
                // The same page again, as a destination does while it is in flight, then the next one unnamed.
                d.Send(MigRpMsg.ReqPages, RequestPayload(null, 1500 * 4096, 4096));
                d.Send(MigRpMsg.ReqPages, RequestPayload(null, 1501 * 4096, 4096));
            },
        };
        using var socket = await destination.ConnectAsync();
        var run = destination.RunAsync();
        // Slow enough that the background has not reached page 1500 when the request arrives.
        var source = new PostcopySource(guest, new PostcopySourceOptions { MaxBandwidth = 4 << 20 });

        var stats = await Migrate(source, socket, destination, TimeSpan.FromSeconds(60));
        socket.Dispose();
        await run;

        Assert.Null(destination.StreamError);
        var offsets = destination.PostcopyPages.Select(p => p.Offset / 4096).ToList();
        Assert.Equal(2048, offsets.Count);
        Assert.Equal(2048, offsets.Distinct().Count());
        Assert.Equal(3, stats.Requests);
        Assert.True(stats.RequestsForSentPages >= 1, "the repeated request was not recognised as already sent");
        // Page 1500 is requested ahead of the background; page 1501 is too, unless the background,
        // which carries on right after 1500, sent it before the third request was read.
        Assert.InRange(stats.RequestedPages, 1, 2);
        Assert.NotNull(stats.RequestLatency(0.99));

        // Requested ahead of the background, which then carries on after it: 1502 follows 1501.
        var at = offsets.IndexOf(1500);
        Assert.True(at < 1500, $"page 1500 went out as page number {at}, not ahead of the background");
        Assert.Equal([1500UL, 1501UL, 1502UL], offsets.Skip(at).Take(3));
    }

    /// <summary>Runs the migration; a timeout says what the destination had read by then.</summary>
    internal static async Task<PostcopySourceStats> Migrate(PostcopySource source, System.Net.Sockets.Socket socket, ScriptedDestination destination, TimeSpan timeout)
    {
        try
        {
            return await source.MigrateAsync(socket).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the migration did not end within {timeout}; status {source.Status}, {source.Stats.PagesSent} pages sent; the destination read: {string.Join(", ", destination.Events)}; its error: {destination.StreamError}");
        }
    }

    internal static byte[] RequestPayload(string? block, ulong start, uint length)
    {
        var name = block is null ? [] : Encoding.ASCII.GetBytes(block);
        var payload = new byte[12 + (block is null ? 0 : 1 + name.Length)];
        BinaryPrimitives.WriteUInt64BigEndian(payload, start);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(8), length);
        if (block is not null)
        {
            payload[12] = (byte)name.Length;
            name.CopyTo(payload.AsSpan(13));
        }

        return payload;
    }
}
