using System.Buffers;
using System.Buffers.Binary;

namespace Qmig.Wire.Streaming;

public sealed partial class MigrationStreamReader
{
    private const ulong FlagContinue = (ulong)RamSaveFlag.ContinueBlock;

    private List<RamBlock> _blocks = [];
    private RamBlock? _currentBlock;
    private ulong _blockListRemaining;

    /// <summary>The RAM blocks the MEM_SIZE list announced, in order.</summary>
    public IReadOnlyList<RamBlock> Blocks => _blocks;

    /// <summary>
    /// One RAM record. The kind is taken from the word first so that the common records (ZERO,
    /// PAGE) go straight to the generated reader; block and bounds checks happen before the
    /// visitor sees the record, so nothing downstream can be asked to write outside a block.
    /// </summary>
    private OperationStatus ReadRamRecord<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        if (rest.Length < 8)
        {
            return OperationStatus.NeedMoreData;
        }

        var word = BinaryPrimitives.ReadUInt64BigEndian(rest);
        var mask = (ulong)_pageSize - 1;
        var kind = word & mask & ~FlagContinue;
        switch (kind)
        {
            case (ulong)RamSaveFlag.Zero or (ulong)RamSaveFlag.Page or (ulong)RamSaveFlag.Xbzrle or (ulong)RamSaveFlag.CompressPage:
                return ReadRamPage(rest, word, kind, ref visitor, out consumed);
            case (ulong)RamSaveFlag.MemSize when _preempt:
                return Fail(MigrationRules.MisplacedRecord, "ram_record", "MEM_SIZE on the preempt channel: only the main stream announces blocks");
            case (ulong)RamSaveFlag.MemSize:
                return ReadMemSize(rest, word & ~mask, ref visitor, out consumed);
            case (ulong)RamSaveFlag.Eos:
                // 7.x ends its preempt channel with EOS; nothing may follow it there.
                return ReadBareRamWord(rest, ref visitor, _preempt ? Phase.Done : Phase.Footer, out consumed);
            case (ulong)RamSaveFlag.MultifdFlush:
                return ReadBareRamWord(rest, ref visitor, Phase.RamBody, out consumed);
            case (ulong)RamSaveFlag.Hook:
                return Fail(MigrationRules.Unsupported, "ram_record", "RAM_SAVE_FLAG_HOOK: the pages travel over RDMA, which this tool does not read");
            default:
                return Fail(MigrationRules.BadRamFlags, "ram_record", $"invalid RAM flags 0x{word & mask:x} in section {_current}");
        }
    }

    private OperationStatus ReadRamPage<TVisitor>(ReadOnlySpan<byte> rest, ulong word, ulong kind, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var status = RamRecord.TryRead(rest, (uint)_pageSize, out var record, out consumed, out var error);
        if (status != OperationStatus.Done)
        {
            return status == OperationStatus.InvalidData ? FailRecord(error) : status;
        }

        RamBlock? block;
        if (record.HasBlockId)
        {
            block = FindBlock(record.BlockId);
            if (block is null)
            {
                return Fail(MigrationRules.UnknownBlock, "ram_record",
                    $"unknown RAM block '{System.Text.Encoding.ASCII.GetString(record.BlockId)}' (the block list announced {_blocks.Count})", 9);
            }

            _currentBlock = block;
        }
        else
        {
            block = _currentBlock;
            if (block is null)
            {
                return Fail(MigrationRules.ContinueWithoutBlock, "ram_record", "RAM_SAVE_FLAG_CONTINUE before any record named a block");
            }
        }

        // QEMU checks only offset < used_length because its blocks are whole pages; a hostile block
        // list need not be, so the whole page must fit.
        var offset = word & ~((ulong)_pageSize - 1);
        if (offset >= block.UsedLength || block.UsedLength - offset < (ulong)_pageSize)
        {
            return Fail(MigrationRules.PageOutsideBlock, "ram_record",
                $"page offset 0x{offset:x} is at or beyond the used length 0x{block.UsedLength:x} of block {block}");
        }

        if ((InPostcopyMode || _preempt) && kind is not ((ulong)RamSaveFlag.Zero or (ulong)RamSaveFlag.Page or (ulong)RamSaveFlag.CompressPage))
        {
            return Fail(MigrationRules.PostcopyRamRecord, "ram_record", $"{((RamSaveFlag)kind).ToQemuName()} is not allowed once postcopy is listening");
        }

        switch (kind)
        {
            case (ulong)RamSaveFlag.Zero when record.Fill != 0 && _options.StrictZeroFill:
                return Fail(MigrationRules.NonZeroFill, "ram_record", $"ZERO page with fill byte 0x{record.Fill:x2}", consumed - 1);
            case (ulong)RamSaveFlag.Xbzrle when !Xbzrle.IsValid(record.XbzrleData, _pageSize, out var problem):
                return Fail(MigrationRules.BadXbzrle, "ram_record", $"XBZRLE delta for block {block} offset 0x{offset:x}: {problem}");
            case (ulong)RamSaveFlag.CompressPage when record.LenCompressed > Xbzrle.CompressBound(_pageSize):
                return Fail(MigrationRules.BadCompressedPage, "ram_record", $"compressed page of {record.LenCompressed} bytes is over compressBound({_pageSize})");
        }

        visitor.OnRamRecord(Info(RecordKind.RamRecord, rest.Slice(0, consumed), _current!.Id), record, block);
        return OperationStatus.Done;
    }

    private RamBlock? FindBlock(ReadOnlySpan<byte> name)
    {
        if (_currentBlock is not null && name.SequenceEqual(_currentBlock.NameBytes))
        {
            return _currentBlock;
        }

        foreach (var block in _blocks)
        {
            if (name.SequenceEqual(block.NameBytes))
            {
                return block;
            }
        }

        return null;
    }

    private OperationStatus ReadBareRamWord<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, Phase next, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var status = RamRecord.TryRead(rest, (uint)_pageSize, out var record, out consumed, out var error);
        if (status != OperationStatus.Done)
        {
            return status == OperationStatus.InvalidData ? FailRecord(error) : status;
        }

        visitor.OnRamRecord(Info(RecordKind.RamRecord, rest.Slice(0, consumed), _current!.Id), record, null);
        _phase = next;
        return OperationStatus.Done;
    }

    private OperationStatus ReadMemSize<TVisitor>(ReadOnlySpan<byte> rest, ulong total, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var status = ReadBareRamWord(rest, ref visitor, total == 0 ? Phase.RamBody : Phase.RamBlockList, out consumed);
        if (status == OperationStatus.Done)
        {
            // A MEM_SIZE announces the whole list again (a new migration on the same stream starts over).
            _blocks.Clear();
            _currentBlock = null;
            _blockListRemaining = total;
        }

        return status;
    }

    /// <summary>
    /// One entry of the MEM_SIZE list. The list ends by byte count, not by a marker: each length
    /// must fit in what the total still leaves, so a bad length cannot run past the list.
    /// </summary>
    private OperationStatus ReadRamBlock<TVisitor>(ReadOnlySpan<byte> rest, bool atEnd, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        if (BlockListHasPageSize(rest, atEnd, out var hasPageSize) == OperationStatus.NeedMoreData)
        {
            return OperationStatus.NeedMoreData;
        }

        var status = RamBlockEntry.TryRead(rest, hasPageSize, _hasMrAddr, out var entry, out consumed, out var error);
        if (status != OperationStatus.Done)
        {
            return status == OperationStatus.InvalidData ? FailRecord(error, MigrationRules.BlockListTotal) : status;
        }

        // No block has an empty name: an empty one means the list was read past its real end,
        // because the announced total is more than the blocks add up to.
        if (entry.Idstr.IsEmpty)
        {
            return Fail(MigrationRules.BlockListTotal, "ram_block_entry",
                $"a block entry with an empty name where the announced total still leaves 0x{_blockListRemaining:x} bytes");
        }

        // QEMU sizes blocks in whole host pages; a partial page could never be placed.
        if (entry.UsedLength % (ulong)_pageSize != 0)
        {
            return Fail(MigrationRules.BadRecord, "ram_block_entry",
                $"block '{System.Text.Encoding.ASCII.GetString(entry.Idstr)}' has used length 0x{entry.UsedLength:x}, not a whole number of {_pageSize}-byte pages", 1 + entry.Idstr.Length);
        }

        if (entry.UsedLength > _blockListRemaining)
        {
            return Fail(MigrationRules.BlockListTotal, "ram_block_entry",
                $"block '{System.Text.Encoding.ASCII.GetString(entry.Idstr)}' of 0x{entry.UsedLength:x} bytes overruns the announced total by 0x{entry.UsedLength - _blockListRemaining:x}", 1 + entry.Idstr.Length);
        }

        // A block's page size divides its offsets and discard ranges: zero, or not a power of two
        // of at least the target page, is no page size QEMU could have sent.
        if (hasPageSize && (entry.PageSize < (ulong)_pageSize || !ulong.IsPow2(entry.PageSize)))
        {
            return Fail(MigrationRules.BadRecord, "ram_block_entry",
                $"block '{System.Text.Encoding.ASCII.GetString(entry.Idstr)}' has page size {entry.PageSize}, not a power of two of at least {_pageSize}", 1 + entry.Idstr.Length + 8);
        }

        if (FindBlock(entry.Idstr) is not null)
        {
            return Fail(MigrationRules.DuplicateBlock, "ram_block_entry", $"block '{System.Text.Encoding.ASCII.GetString(entry.Idstr)}' appears twice in the block list", 1);
        }

        var block = new RamBlock(_blocks.Count, entry.Idstr.ToArray(), entry.UsedLength,
            hasPageSize ? entry.PageSize : null, _hasMrAddr ? entry.MrAddr : null);
        if (_mappedRam)
        {
            // Block state changes only once the header is there too, so NeedMoreData leaves none behind.
            status = ReadMappedRamHeader(rest, consumed, block, ref visitor, out consumed);
            if (status == OperationStatus.Done)
            {
                _blocks.Add(block);
                _blockListRemaining -= entry.UsedLength;
            }

            return status;
        }

        _blocks.Add(block);
        _blockListRemaining -= entry.UsedLength;
        visitor.OnRamBlock(Info(RecordKind.RamBlock, rest.Slice(0, consumed), _current!.Id), block);
        if (_blockListRemaining == 0)
        {
            _phase = Phase.RamBody;
        }

        return OperationStatus.Done;
    }

    /// <summary>
    /// The per-block page size is on the wire only for blocks whose page size differs from the
    /// host's, under postcopy; the stream says which only through the ADVISE summary. When the
    /// summary shows huge pages, read the entry both ways and keep the one that leaves a
    /// plausible next entry.
    /// </summary>
    private OperationStatus BlockListHasPageSize(ReadOnlySpan<byte> rest, bool atEnd, out bool hasPageSize)
    {
        hasPageSize = false;
        if (_advisedPageSizes is not ulong summary || summary == (ulong)_pageSize || rest.IsEmpty)
        {
            return OperationStatus.Done;
        }

        var without = 1 + rest[0] + 8 + (_hasMrAddr ? 8 : 0);
        if (rest.Length < 1 + rest[0] + 8)
        {
            return atEnd ? OperationStatus.Done : OperationStatus.NeedMoreData;
        }

        // Decide only once what the guess looks at is all visible (or nothing more will come):
        // otherwise the answer would depend on where the input happened to be cut.
        var usedLength = BinaryPrimitives.ReadUInt64BigEndian(rest.Slice(1 + rest[0]));
        if (usedLength == _blockListRemaining)
        {
            // The last entry: no next name to look at, but the section's next record is a RAM
            // word (EOS), never a huge page size that the ADVISE summary lists.
            if (!atEnd && rest.Length < without + 8)
            {
                return OperationStatus.NeedMoreData;
            }

            hasPageSize = rest.Length >= without + 8 && IsAdvisedHugePageSize(BinaryPrimitives.ReadUInt64BigEndian(rest.Slice(without)), summary);
            return OperationStatus.Done;
        }

        // The guess looks at what follows the entry read both ways.
        if (!atEnd && (!NameVisible(rest, without) || !NameVisible(rest, without + 8)))
        {
            return OperationStatus.NeedMoreData;
        }

        if (rest.Length < without + 2)
        {
            return OperationStatus.Done;
        }

        hasPageSize = !PlausibleBlockName(rest.Slice(without));
        return OperationStatus.Done;
    }

    /// <summary>A page size QEMU would put in a block entry: larger than the target page, a power of two, in the ADVISE summary.</summary>
    private bool IsAdvisedHugePageSize(ulong candidate, ulong summary) =>
        candidate > (ulong)_pageSize && ulong.IsPow2(candidate) && (summary & candidate) != 0;

    /// <summary>Whether a length-prefixed name at <paramref name="at"/> lies wholly inside <paramref name="rest"/>.</summary>
    private static bool NameVisible(ReadOnlySpan<byte> rest, int at) => rest.Length > at && rest.Length >= at + 1 + rest[at];

    private static bool PlausibleBlockName(ReadOnlySpan<byte> entry)
    {
        if (entry.IsEmpty || entry[0] == 0 || entry.Length < 1 + entry[0])
        {
            return false;
        }

        foreach (var c in entry.Slice(1, entry[0]))
        {
            if (c is < 0x20 or > 0x7e)
            {
                return false;
            }
        }

        return true;
    }
}
