using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Qmig.Wire.Writing;

/// <summary>
/// Writes a main migration stream record by record through the generated writers, and keeps the
/// one piece of state the format needs on the sending side: the current RAM block, so records for
/// the same block use CONTINUE as QEMU's do. Nothing is allocated per page.
/// </summary>
public sealed class MigrationStreamWriter(IBufferWriter<byte> output, int targetPageSize = 4096)
{
    private byte[]? _currentBlock;

    /// <summary>The page size RAM records are written in and the MEM_SIZE record announces; the destination must use the same.</summary>
    public int TargetPageSize { get; } = targetPageSize;

    /// <summary>Where the records go, e.g. a pipe to a socket or an <see cref="ArrayBufferWriter{T}"/> in a test.</summary>
    public IBufferWriter<byte> Output { get; } = output;

    /// <summary>The QEVM magic and version 3 that every main stream starts with.</summary>
    public void FileHeader() => Wire.FileHeader.Write(Output, 3);

    /// <summary>The configuration record naming the <paramref name="machine"/> type (e.g. <c>pc-i440fx-7.2</c>) the destination checks against its own.</summary>
    public void Configuration(string machine) => Wire.Configuration.Write(Output, Encoding.ASCII.GetBytes(machine));

    /// <summary>A configuration subsection (e.g. <c>capabilities</c>): its header, then <paramref name="body"/> as given.</summary>
    public void ConfigurationSubsection(string name, uint version, ReadOnlySpan<byte> body)
    {
        SubsectionHeader.Write(Output, Encoding.ASCII.GetBytes(name), version);
        Raw(body);
    }

    /// <summary>
    /// A SECTION_START for a live section (RAM) or, with <paramref name="full"/>, a SECTION_FULL for a device;
    /// the body and a <see cref="Footer"/> follow.
    /// </summary>
    public void SectionStart(uint sectionId, string idstr, uint instanceId, uint versionId, bool full = false) =>
        SectionHeaderStartFull.Write(Output, full ? VmSectionType.SectionFull : VmSectionType.SectionStart, sectionId,
            Encoding.ASCII.GetBytes(idstr), instanceId, versionId);

    /// <summary>A SECTION_PART (a RAM round) or, with <paramref name="end"/>, the SECTION_END sent after the source stops the guest.</summary>
    public void SectionPart(uint sectionId, bool end = false) =>
        SectionHeaderPartEnd.Write(Output, end ? VmSectionType.SectionEnd : VmSectionType.SectionPart, sectionId);

    /// <summary>The footer that closes section <paramref name="sectionId"/>, which the destination checks against the section it read.</summary>
    public void Footer(uint sectionId) => SectionFooter.Write(Output, sectionId);

    /// <summary>The MEM_SIZE record and the block list; the total is derived from the blocks.</summary>
    public void RamBlockList(IReadOnlyList<(string Name, ulong UsedLength)> blocks) =>
        RamBlockList(blocks.Select(b => (b.Name, b.UsedLength, (ulong?)null)).ToArray());

    /// <summary>
    /// The MEM_SIZE record and the block list, with a page size after each block that has one: a postcopy
    /// destination reads it for every block whose page size differs from its host page size.
    /// </summary>
    public void RamBlockList(IReadOnlyList<(string Name, ulong UsedLength, ulong? PageSize)> blocks)
    {
        ulong total = 0;
        foreach (var block in blocks)
        {
            total += block.UsedLength;
        }

        RamRecord.Write(Output, (uint)TargetPageSize, total | (ulong)RamSaveFlag.MemSize, default, 0, default, 1, default, default);
        foreach (var block in blocks)
        {
            RamBlockEntry.Write(Output, block.PageSize is not null, false, Encoding.UTF8.GetBytes(block.Name), block.UsedLength, block.PageSize ?? 0, 0);
        }
    }

    /// <summary>A normal page at <paramref name="offset"/> in the block named <paramref name="block"/>, with CONTINUE when the previous page record named the same block.</summary>
    public void RamPage(ReadOnlySpan<byte> block, ulong offset, ReadOnlySpan<byte> page) =>
        RamRecord.Write(Output, (uint)TargetPageSize, Word(block, offset, RamSaveFlag.Page), BlockId(block), 0, page, 1, default, default);

    /// <summary>
    /// A normal page's record without the page: exactly <see cref="TargetPageSize"/> bytes of it must follow on
    /// the wire. A sender that gathers them from where the page lives (one write of several buffers) never
    /// copies the page into the output.
    /// </summary>
    public void RamPageWithoutBytes(ReadOnlySpan<byte> block, ulong offset) =>
        RamRecord.WriteWithoutPage(Output, (uint)TargetPageSize, Word(block, offset, RamSaveFlag.Page), BlockId(block), 0, 1, default, default);

    /// <summary>A zero page: one <paramref name="fill"/> byte instead of a page of it (QEMU 10.x accepts only 0).</summary>
    public void RamZero(ReadOnlySpan<byte> block, ulong offset, byte fill = 0) =>
        RamRecord.Write(Output, (uint)TargetPageSize, Word(block, offset, RamSaveFlag.Zero), BlockId(block), fill, default, 1, default, default);

    /// <summary>An XBZRLE page: <paramref name="delta"/> against the page the destination already holds.</summary>
    public void RamXbzrle(ReadOnlySpan<byte> block, ulong offset, ReadOnlySpan<byte> delta) =>
        RamRecord.Write(Output, (uint)TargetPageSize, Word(block, offset, RamSaveFlag.Xbzrle), BlockId(block), 0, default, 1, delta, default);

    /// <summary>The end of a RAM section's body (RAM_SAVE_FLAG_EOS); its footer follows.</summary>
    public void RamEos() => RamRecord.Write(Output, (uint)TargetPageSize, (ulong)RamSaveFlag.Eos, default, 0, default, 1, default, default);

    /// <summary>The next page record names its block again (QEMU does this when it restarts or switches channel).</summary>
    public void ForgetCurrentBlock() => _currentBlock = null;

    /// <summary>A MIG_CMD with its <paramref name="payload"/>; the helpers below build the payloads of the common ones.</summary>
    public void Command(MigCmd cmd, ReadOnlySpan<byte> payload = default) => Wire.Command.Write(Output, cmd, payload);

    /// <summary>MIG_CMD_PING: the destination answers PONG with <paramref name="value"/> on the return path, which tells how far it has loaded.</summary>
    public void Ping(uint value)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, value);
        Command(MigCmd.Ping, payload);
    }

    /// <summary>MIG_CMD_POSTCOPY_ADVISE: tells the destination to prepare for postcopy, with the source's page sizes for it to check.</summary>
    public void PostcopyAdvise(ulong hostPageSizes, ulong targetPageSize)
    {
        Span<byte> payload = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(payload, hostPageSizes);
        BinaryPrimitives.WriteUInt64BigEndian(payload.Slice(8), targetPageSize);
        Command(MigCmd.PostcopyAdvise, payload);
    }

    /// <summary>PACKAGED: the command, then the package bytes outside its length.</summary>
    public void Packaged(ReadOnlySpan<byte> package)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, checked((uint)package.Length));
        Command(MigCmd.Packaged, payload);
        Raw(package);
    }

    /// <summary>QEMU_VM_EOF: the device sections are over.</summary>
    public void EndOfSections() => Wire.EndOfSections.Write(Output);

    /// <summary>The VMDESCRIPTION JSON after QEMU_VM_EOF, which lets analysis tools decode device bodies field by field.</summary>
    public void VmDescription(ReadOnlySpan<byte> json) => Wire.VmDescription.Write(Output, json);

    /// <summary>Bytes the format does not frame itself (a device body, a package).</summary>
    public void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Output.GetSpan(bytes.Length));
        Output.Advance(bytes.Length);
    }

    private ulong Word(ReadOnlySpan<byte> block, ulong offset, RamSaveFlag kind) =>
        offset | (ulong)kind | (IsCurrent(block) ? (ulong)RamSaveFlag.ContinueBlock : 0);

    private bool IsCurrent(ReadOnlySpan<byte> block) => _currentBlock is not null && block.SequenceEqual(_currentBlock);

    /// <summary>The block id to write: none when CONTINUE applies; otherwise the name, which becomes current.</summary>
    private ReadOnlySpan<byte> BlockId(ReadOnlySpan<byte> block)
    {
        if (IsCurrent(block))
        {
            return default;
        }

        _currentBlock = block.ToArray();
        return block;
    }
}
