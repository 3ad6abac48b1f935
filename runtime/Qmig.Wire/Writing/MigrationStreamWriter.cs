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

    public int TargetPageSize { get; } = targetPageSize;

    public IBufferWriter<byte> Output { get; } = output;

    public void FileHeader() => Wire.FileHeader.Write(Output, 3);

    public void Configuration(string machine) => Wire.Configuration.Write(Output, Encoding.ASCII.GetBytes(machine));

    public void ConfigurationSubsection(string name, uint version, ReadOnlySpan<byte> body)
    {
        SubsectionHeader.Write(Output, Encoding.ASCII.GetBytes(name), version);
        Raw(body);
    }

    public void SectionStart(uint sectionId, string idstr, uint instanceId, uint versionId, bool full = false) =>
        SectionHeaderStartFull.Write(Output, full ? VmSectionType.SectionFull : VmSectionType.SectionStart, sectionId,
            Encoding.ASCII.GetBytes(idstr), instanceId, versionId);

    public void SectionPart(uint sectionId, bool end = false) =>
        SectionHeaderPartEnd.Write(Output, end ? VmSectionType.SectionEnd : VmSectionType.SectionPart, sectionId);

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

    public void RamPage(ReadOnlySpan<byte> block, ulong offset, ReadOnlySpan<byte> page) =>
        RamRecord.Write(Output, (uint)TargetPageSize, Word(block, offset, RamSaveFlag.Page), BlockId(block), 0, page, 1, default, default);

    public void RamZero(ReadOnlySpan<byte> block, ulong offset, byte fill = 0) =>
        RamRecord.Write(Output, (uint)TargetPageSize, Word(block, offset, RamSaveFlag.Zero), BlockId(block), fill, default, 1, default, default);

    public void RamXbzrle(ReadOnlySpan<byte> block, ulong offset, ReadOnlySpan<byte> delta) =>
        RamRecord.Write(Output, (uint)TargetPageSize, Word(block, offset, RamSaveFlag.Xbzrle), BlockId(block), 0, default, 1, delta, default);

    public void RamEos() => RamRecord.Write(Output, (uint)TargetPageSize, (ulong)RamSaveFlag.Eos, default, 0, default, 1, default, default);

    /// <summary>The next page record names its block again (QEMU does this when it restarts or switches channel).</summary>
    public void ForgetCurrentBlock() => _currentBlock = null;

    public void Command(MigCmd cmd, ReadOnlySpan<byte> payload = default) => Wire.Command.Write(Output, cmd, payload);

    public void Ping(uint value)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, value);
        Command(MigCmd.Ping, payload);
    }

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

    public void EndOfSections() => Wire.EndOfSections.Write(Output);

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
