using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using Qmig.Wire.Writing;
using Xunit;

namespace Qmig.Wire.Tests.Writing;

/// <summary>
/// A page record written without its page (<c>-qmig-sent-apart</c> on ram_record's <c>page</c>), with the page
/// sent right after it, is byte for byte the record written whole, CONTINUE and block names included.
/// </summary>
public sealed class PageSentApartTests
{
    private const int PageSize = 4096;

    [Fact]
    public void AnyRunOfPagesIsTheSameWhetherThePageIsWrittenOrSentApart()
    {
        var blocks = new[] { "pc.ram", "vga.vram", "/rom@etc/acpi/tables" };
        var pages =
            from count in Gen.Choose(1, 12)
            from run in Gen.ListOf(
                from block in Gen.Choose(0, blocks.Length - 1)
                from page in Gen.Choose(0, 1 << 20)
                from fill in Gen.Choose(0, 255)
                select (Block: block, Page: page, Fill: fill), count)
            select run.ToArray();

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300).WithQuietOnSuccess(true), Prop.ForAll(Arb.From(pages), run =>
        {
            var whole = new ArrayBufferWriter<byte>();
            var apart = new ArrayBufferWriter<byte>();
            var wholeWriter = new MigrationStreamWriter(whole, PageSize);
            var apartWriter = new MigrationStreamWriter(apart, PageSize);
            foreach (var (block, page, fill) in run)
            {
                var bytes = Enumerable.Repeat((byte)fill, PageSize).ToArray();
                var name = System.Text.Encoding.ASCII.GetBytes(blocks[block]);
                wholeWriter.RamPage(name, (ulong)page * PageSize, bytes);
                apartWriter.RamPageWithoutBytes(name, (ulong)page * PageSize);
                apart.Write(bytes);
            }

            Assert.Equal(whole.WrittenSpan.ToArray(), apart.WrittenSpan.ToArray());
        }));
    }

    [Fact]
    public void ARecordWithoutAPageCannotSendOneApart()
    {
        var error = Assert.Throws<WireWriteException>(() =>
            RamRecord.WriteWithoutPage(new ArrayBufferWriter<byte>(), PageSize, (ulong)RamSaveFlag.Zero, "pc.ram"u8, 0, 1, default, default));
        Assert.Contains("'page' is absent, so it cannot be sent apart", error.Message, StringComparison.Ordinal);
    }
}
