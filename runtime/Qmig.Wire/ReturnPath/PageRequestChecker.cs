using Qmig.Wire.Streaming;

namespace Qmig.Wire.ReturnPath;

/// <summary>
/// The source's checks on page requests (QEMU migrate_handle_rp_req_pages()): REQ_PAGES reuses
/// the block the last REQ_PAGES_ID named, the block must exist, and the range must be whole
/// target pages ending inside the block's used length. The blocks come from the main stream of
/// the same migration, which the return path never names in full.
/// </summary>
public sealed class PageRequestChecker(IReadOnlyList<RamBlock> blocks, int pageSize)
{
    /// <summary>A page request that passed the checks: byte range <c>[Start, Start + Length)</c> of <c>Block</c>.</summary>
    public readonly record struct PageRequest(RamBlock Block, ulong Start, uint Length);

    private RamBlock? _last;

    /// <summary>The first request that breaks a rule, once one has.</summary>
    public MigrationError? Error { get; private set; }

    /// <summary>How many page requests (REQ_PAGES and REQ_PAGES_ID) were checked, up to and including the first that broke a rule.</summary>
    public int Requests { get; private set; }

    /// <summary>Checks one message, for a caller that only wants <see cref="Error"/> set; see <see cref="TryCheck"/>.</summary>
    public void Check(in RecordInfo record, in RpMessage message) => TryCheck(record, message, out _);

    /// <summary>
    /// Checks one message; for a page request that keeps every rule, returns true with the block and range it
    /// asks for (a source serves it from there). False for other messages and once <see cref="Error"/> is set.
    /// </summary>
    public bool TryCheck(in RecordInfo record, in RpMessage message, out PageRequest request)
    {
        request = default;
        if (Error is not null || message.MsgType is not (MigRpMsg.ReqPages or MigRpMsg.ReqPagesId))
        {
            return false;
        }

        Requests++;
        ulong start;
        uint length;
        if (message.MsgType == MigRpMsg.ReqPagesId)
        {
            if (ReqPagesId.TryRead(message.Payload, out var named, out _) != System.Buffers.OperationStatus.Done)
            {
                Fail(record, "REQ_PAGES_ID payload does not hold start, length and a block name");
                return false;
            }

            _last = Find(named.BlockName);
            if (_last is null)
            {
                Fail(record, $"REQ_PAGES_ID names block '{System.Text.Encoding.ASCII.GetString(named.BlockName)}', which the main stream did not announce");
                return false;
            }

            (start, length) = (named.Start, named.Length);
        }
        else
        {
            if (ReqPages.TryRead(message.Payload, out var unnamed, out _) != System.Buffers.OperationStatus.Done)
            {
                Fail(record, "REQ_PAGES payload is not start and length");
                return false;
            }

            if (_last is null)
            {
                Fail(record, "REQ_PAGES before any REQ_PAGES_ID named a block");
                return false;
            }

            (start, length) = (unnamed.Start, unnamed.Length);
        }

        if (start % (ulong)pageSize != 0 || length == 0 || length % (uint)pageSize != 0)
        {
            Fail(record, $"request 0x{start:x}+0x{length:x} in {_last} is not whole {pageSize}-byte pages");
            return false;
        }

        if (start >= _last.UsedLength || _last.UsedLength - start < length)
        {
            Fail(record, $"request 0x{start:x}+0x{length:x} ends beyond the used length 0x{_last.UsedLength:x} of {_last}");
            return false;
        }

        request = new PageRequest(_last, start, length);
        return true;
    }

    private RamBlock? Find(ReadOnlySpan<byte> name)
    {
        foreach (var block in blocks)
        {
            if (name.SequenceEqual(block.NameBytes))
            {
                return block;
            }
        }

        return null;
    }

    private void Fail(in RecordInfo record, string message) =>
        Error = new MigrationError(record.Offset + 4, "rp_message", MigrationRules.RequestOutsideBlock, message);
}
