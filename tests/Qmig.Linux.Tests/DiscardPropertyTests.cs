using System.Text;
using FsCheck.Xunit;
using Qmig.Postcopy;
using Qmig.Postcopy.Discard;

namespace Qmig.Linux.Tests;

/// <summary>
/// For random sent maps and dirty bitmaps over random block sizes and host-page sizes, the discard
/// commands cover exactly the stale pages (sent &amp; dirty, widened to whole host pages), stay inside
/// their block, and carry at most 12 ranges each.
/// </summary>
public class DiscardPropertyTests
{
    private const ulong TargetPageSize = 4096;

    [Property(MaxTest = 400, EndSize = 600)]
    public void CommandsCoverExactlyTheStalePagesOfEachBlock(bool[][] sent, bool[][] dirty, byte hostShift)
    {
        int hostPage = 1 << (hostShift % 4);
        List<SourceRamBlock> blocks = [];
        List<bool[]> stale = [];
        for (int i = 0; i < Math.Min(4, Math.Min(sent.Length, dirty.Length)); i++)
        {
            int length = Math.Max(sent[i].Length, dirty[i].Length);
            length = (length + hostPage - 1) / hostPage * hostPage;
            var block = new SourceRamBlock("block" + i, length, hostPage);
            block.Dirty.ClearAll();
            var isStale = new bool[length];
            for (int p = 0; p < length; p++)
            {
                bool s = p < sent[i].Length && sent[i][p];
                bool d = p < dirty[i].Length && dirty[i][p];
                if (s)
                {
                    block.Sent.Set(p);
                }

                if (d)
                {
                    block.Dirty.Set(p);
                }

                isStale[p] = s && d;
            }

            blocks.Add(block);
            stale.Add(isStale);
        }

        var sink = new RecordingSink();
        DiscardSummary summary = PostcopyDiscard.Send(blocks, TargetPageSize, sink);

        Assert.Equal(sink.Commands.Count, summary.Commands);
        Assert.Equal(sink.Commands.Sum(c => c.Ranges.Length), summary.Ranges);
        Assert.All(sink.Commands, c => Assert.InRange(c.Ranges.Length, 1, PostcopyDiscard.MaxDiscardsPerCommand));

        // Commands come block by block, in block order.
        List<string> order = sink.Commands.Select(c => c.Block).Distinct().ToList();
        Assert.Equal(order, sink.Commands.Select(c => c.Block).Where((b, i) => i == 0 || sink.Commands[i - 1].Block != b).ToList());
        Assert.Equal(order, blocks.Select(b => b.NameText).Where(order.Contains).ToList());

        long pages = 0;
        for (int i = 0; i < blocks.Count; i++)
        {
            SourceRamBlock block = blocks[i];
            var commands = sink.Commands.Where(c => c.Block == block.NameText).ToList();
            // Every command but the last of a block is full, as QEMU batches them.
            Assert.All(commands.SkipLast(1), c => Assert.Equal(PostcopyDiscard.MaxDiscardsPerCommand, c.Ranges.Length));

            var expected = new bool[block.PageCount];
            for (long p = 0; p < block.PageCount; p++)
            {
                long host = p / hostPage * hostPage;
                expected[p] = Enumerable.Range(0, hostPage).Any(k => stale[i][host + k]);
            }

            var covered = new bool[block.PageCount];
            long previousEnd = -1;
            foreach ((ulong startBytes, ulong lengthBytes) in commands.SelectMany(c => c.Ranges))
            {
                Assert.Equal(0UL, startBytes % (TargetPageSize * (ulong)hostPage));
                Assert.Equal(0UL, lengthBytes % (TargetPageSize * (ulong)hostPage));
                long start = (long)(startBytes / TargetPageSize), count = (long)(lengthBytes / TargetPageSize);
                Assert.True(count > 0);
                Assert.True(start + count <= block.PageCount, $"range [{start}, +{count}) crosses the end of {block.NameText} ({block.PageCount} pages)");
                // Ascending, disjoint and maximal: two ranges never touch.
                Assert.True(start > previousEnd, $"range at {start} touches or overlaps the previous one ending at {previousEnd}");
                previousEnd = start + count;
                for (long p = start; p < start + count; p++)
                {
                    covered[p] = true;
                }

                pages += count;
            }

            Assert.Equal(expected, covered);
            if (hostPage > 1)
            {
                // Whole host pages are discarded, so all their target pages must be sent again.
                Assert.All(Enumerable.Range(0, (int)block.PageCount).Where(p => covered[p]), p => Assert.True(block.Dirty.Test(p)));
            }
        }

        Assert.Equal(pages, summary.Pages);
    }

    [Fact]
    public void ThirteenRunsMakeTwoCommandsAndRangesAreInBytes()
    {
        var block = new SourceRamBlock("pc.ram", 200);
        for (int run = 0; run < 13; run++)
        {
            block.Sent.SetRange(run * 10, 3);
        }

        var sink = new RecordingSink();
        Assert.Equal(new DiscardSummary(2, 13, 39), PostcopyDiscard.Send(block, TargetPageSize, sink));
        Assert.Equal([12, 1], sink.Commands.Select(c => c.Ranges.Length));
        Assert.Equal((0UL, 3 * TargetPageSize), sink.Commands[0].Ranges[0]);
        Assert.Equal((120 * TargetPageSize, 3 * TargetPageSize), sink.Commands[1].Ranges[0]);
        Assert.All(sink.Commands, c => Assert.Equal("pc.ram", c.Block));
    }

    [Fact]
    public void NothingStaleSendsNothing()
    {
        var block = new SourceRamBlock("pc.ram", 100);
        var sink = new RecordingSink();
        Assert.Equal(default, PostcopyDiscard.Send(block, TargetPageSize, sink));
        Assert.Empty(sink.Commands);
    }

    /// <summary>
    /// Writes the commands as bytes with the generated writer, then decodes them with the generated
    /// reader, so the property checks what goes on the wire, not what the computation meant to send.
    /// </summary>
    private sealed class RecordingSink : IDiscardCommandSink
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _wire = new();
        private readonly DiscardCommandWriter _writer;

        public RecordingSink() => _writer = new DiscardCommandWriter(_wire);

        public List<(string Block, (ulong StartBytes, ulong LengthBytes)[] Ranges)> Commands
        {
            get
            {
                var commands = new List<(string, (ulong, ulong)[])>();
                var bytes = _wire.WrittenSpan;
                while (!bytes.IsEmpty)
                {
                    Assert.Equal(System.Buffers.OperationStatus.Done, Qmig.Wire.Command.TryRead(bytes, out var command, out var used, out var error));
                    Assert.Equal(Qmig.Wire.MigCmd.PostcopyRamDiscard, command.Cmd);
                    Assert.Equal(System.Buffers.OperationStatus.Done, command.TryReadPayloadAsPostcopyRamDiscard(out var discard, out _, out _));
                    var ranges = new List<(ulong, ulong)>();
                    foreach (var range in discard.Ranges)
                    {
                        ranges.Add((range.Start, range.Length));
                    }

                    commands.Add((Encoding.UTF8.GetString(discard.BlockName), ranges.ToArray()));
                    bytes = bytes.Slice(used);
                }

                return commands;
            }
        }

        public void WriteDiscard(ReadOnlySpan<byte> blockName, ReadOnlySpan<(ulong StartBytes, ulong LengthBytes)> ranges)
            => _writer.WriteDiscard(blockName, ranges);
    }
}
