using System.Buffers;

namespace Qmig.Wire.Streaming;

/// <summary>
/// Reads a QEMU main migration stream incrementally: feed it what has arrived, it hands every
/// record to a visitor and keeps what the format makes stateful (RAM block list, the current
/// block for CONTINUE, section ids, PACKAGED nesting, footers). It never holds the stream: a
/// record is parsed in place from the first segment, or from a reusable scratch copy when it
/// straddles segments, so steady-state reading allocates nothing.
/// </summary>
public sealed partial class MigrationStreamReader
{
    private enum Phase : byte
    {
        Header,
        AfterHeader,
        ConfigurationSubsections,
        TopLevel,
        RamBody,
        RamBlockList,
        MappedRamSkip,
        MappedRamBitmap,
        MappedRamPages,
        DeviceBody,
        Footer,
        AfterEndOfSections,
        Done,
    }

    private readonly MigrationReaderOptions _options;
    private long[] _packageEnds;
    private byte[] _scratch = new byte[64 * 1024];
    private Phase _phase;
    private long _position;
    private int _depth;

    /// <summary>A reader at the start of a stream; <paramref name="options"/> sets its limits, page size and vmdesc, with defaults for a main stream.</summary>
    public MigrationStreamReader(MigrationReaderOptions? options = null)
    {
        _options = options ?? new MigrationReaderOptions();
        _packageEnds = new long[Math.Max(1, _options.MaxPackageDepth)];
        _phase = Phase.Header;
        _position = _options.StartOffset;
        _pageSize = _options.TargetPageSize;
        _footers = _options.SectionFooters;
        _vmDescription = _options.VmDescription;
        if (_vmDescription?.PageSize is int pageSize)
        {
            _pageSize = pageSize;
        }

        if (_options.PreemptChannelBlocks is { } blocks)
        {
            // The preempt channel is a RAM body without its section: a stand-in section (id 0,
            // "outside a section") gives records a home, and postcopy rules apply from the start.
            _preempt = true;
            _blocks = [.. blocks];
            _current = new SectionInfo(0, "ram", 0, 4, isRam: true);
            _phase = Phase.RamBody;
        }
    }

    private readonly bool _preempt;

    /// <summary>
    /// An independent copy of the reader's state: reading on with the copy does not affect this
    /// reader. Lets a caller try a speculative parse, or test every truncation point cheaply. The
    /// copy shares the scratch buffer, so it must not be used at the same time as the original.
    /// </summary>
    public MigrationStreamReader Snapshot()
    {
        var copy = (MigrationStreamReader)MemberwiseClone();
        copy._packageEnds = (long[])_packageEnds.Clone();
        copy._sections = new Dictionary<uint, SectionInfo>(_sections);
        copy._blocks = [.. _blocks];
        copy._capabilities = [.. _capabilities];
        copy._mrBitmap = (ulong[])_mrBitmap.Clone();
        return copy;
    }

    /// <summary>
    /// Reads on from a new connection after a broken postcopy link (QEMU's postcopy recovery): the
    /// resumed main channel has no header and starts at the top level (RECV_BITMAP and
    /// POSTCOPY_RESUME commands, then RAM sections), while the sections, blocks and postcopy state
    /// read so far stay. What the old connection left unconsumed (a record cut by the break) is the
    /// caller's to drop; offsets go on from the last record consumed.
    /// </summary>
    public void ContinueOnResumedChannel()
    {
        _phase = Phase.TopLevel;
        _depth = 0;
        Error = null;
    }

    /// <summary>Bytes consumed so far: the absolute offset of the next record.</summary>
    public long Position => _position;

    /// <summary>Set when <see cref="Read{TVisitor}"/> returned <c>InvalidData</c>.</summary>
    public MigrationError? Error { get; private set; }

    /// <summary>The stream ended properly (EOF, and the vmdesc if one followed).</summary>
    public bool IsCompleted => _phase == Phase.Done || (_phase == Phase.AfterEndOfSections && _depth == 0) || (_preempt && _phase == Phase.RamBody);

    /// <summary>The target page size in use (from the options, the configuration or the vmdesc).</summary>
    public int TargetPageSize => _pageSize;

    /// <summary>
    /// Options for a reader of the postcopy-preempt channel of the migration this reader reads: its
    /// records address the blocks this stream's MEM_SIZE list announced, in pages of this stream's
    /// target page size. Call once the block list has been read (by LISTEN, in postcopy); the blocks
    /// are copied, so the options do not change as this reader reads on.
    /// </summary>
    public MigrationReaderOptions PreemptChannelOptions() =>
        new() { TargetPageSize = _pageSize, PreemptChannelBlocks = _blocks.ToArray() };

    /// <summary>
    /// Reads as many records as <paramref name="buffer"/> holds and slices off what it consumed.
    /// </summary>
    /// <returns>
    /// <c>Done</c> when the stream is complete; <c>NeedMoreData</c> when the buffer ends inside a
    /// record (call again with more, or with <paramref name="isFinalBlock"/> to learn it was cut
    /// short); <c>InvalidData</c> with <see cref="Error"/> set.
    /// </returns>
    public OperationStatus Read<TVisitor>(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, ref TVisitor visitor)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        if (Error is not null)
        {
            return OperationStatus.InvalidData;
        }

        while (true)
        {
            if (_depth > 0 && _position == _packageEnds[_depth - 1])
            {
                _depth--;
                continue;
            }

            if (_phase == Phase.Done)
            {
                return buffer.IsEmpty ? OperationStatus.Done : Fail(MigrationRules.TrailingBytes, "stream",
                    $"{buffer.Length} bytes follow the end of the stream");
            }

            if (buffer.IsEmpty)
            {
                return isFinalBlock ? EndOfInput(midRecord: false) : OperationStatus.NeedMoreData;
            }

            // Inside a package, records must end at the package end: the window stops there.
            var packageLimit = _depth > 0 ? _packageEnds[_depth - 1] - _position : long.MaxValue;
            var first = buffer.FirstSpan;
            if (first.IsEmpty)
            {
                // A sequence may hold empty segments before its data: an empty window reads
                // nothing, so without stepping over them this loop would spin forever.
                buffer = SkipEmptySegments(buffer);
                continue;
            }

            var window = first.Length > packageLimit ? first.Slice(0, (int)packageLimit) : first;
            var windowIsAll = window.Length == buffer.Length || window.Length == packageLimit;
            var status = Step(window, windowIsAll && (isFinalBlock || window.Length == packageLimit), ref visitor, out var used);
            if (status == OperationStatus.NeedMoreData && used == 0 && !windowIsAll)
            {
                // The record straddles segments: copy what is there into the scratch buffer and retry.
                var available = Math.Min(buffer.Length, packageLimit);
                // Start near the size of an ordinary record and double: a record that straddles
                // many small segments is then copied in proportion to its own size, not the
                // scratch buffer's, which keeps reading from a pipe of tiny writes linear enough.
                var copyLength = (int)Math.Min(available, Math.Max(FirstStraddleCopy, window.Length * 2L));
                while (true)
                {
                    EnsureScratch(copyLength);
                    buffer.Slice(0, copyLength).CopyTo(_scratch);
                    var copyIsAll = copyLength == available;
                    status = Step(_scratch.AsSpan(0, copyLength), copyIsAll && (isFinalBlock || copyLength == packageLimit), ref visitor, out used);
                    if (status != OperationStatus.NeedMoreData || used > 0 || copyIsAll || copyLength >= MaxScratch)
                    {
                        break;
                    }

                    copyLength = (int)Math.Min(available, Math.Min((long)copyLength * 2, MaxScratch));
                }
            }

            if (used > 0)
            {
                buffer = buffer.Slice(used);
            }

            switch (status)
            {
                case OperationStatus.InvalidData:
                    return OperationStatus.InvalidData;
                case OperationStatus.NeedMoreData when used == 0:
                    if (_depth > 0 && buffer.Length >= _packageEnds[_depth - 1] - _position)
                    {
                        return Fail(MigrationRules.PackageNesting, "packaged", "a record crosses the end of its PACKAGED sub-stream");
                    }

                    if (isFinalBlock)
                    {
                        return EndOfInput(midRecord: true);
                    }

                    // More than any record may hold is buffered and the record is still not complete:
                    // asking for more would let a hostile length grow the caller's buffer without bound.
                    return buffer.Length > MaxScratch
                        ? Fail(MigrationRules.RecordTooLarge, _current?.Idstr ?? "record", $"a record at 0x{_position:x} needs more than {MaxScratch} bytes")
                        : OperationStatus.NeedMoreData;
            }
        }
    }

    private static ReadOnlySequence<byte> SkipEmptySegments(ReadOnlySequence<byte> buffer)
    {
        var start = buffer.Start;
        var position = start;
        while (buffer.TryGet(ref position, out var memory) && memory.IsEmpty)
        {
            start = position;
        }

        return buffer.Slice(start);
    }

    /// <summary>A RAM page with its header fits, so most straddling records need one copy.</summary>
    private const int FirstStraddleCopy = 4096 + 512;

    private int MaxScratch => Math.Max(_options.MaxDeviceBodySize, _options.MaxVmDescriptionSize) + 64;

    private void EnsureScratch(int length)
    {
        if (_scratch.Length < length)
        {
            _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
        }
    }

    /// <summary>
    /// Reads records from one contiguous window until it runs out. <paramref name="atEnd"/> says
    /// nothing follows the window (end of input or of the package), which the footer scan needs.
    /// </summary>
    private OperationStatus Step<TVisitor>(ReadOnlySpan<byte> window, bool atEnd, ref TVisitor visitor, out int used)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        used = 0;
        var depth = _depth;
        while (used < window.Length || _phase is Phase.AfterHeader)
        {
            var rest = window.Slice(used);
            OperationStatus status;
            int consumed;
            switch (_phase)
            {
                case Phase.RamBody:
                    status = ReadRamRecord(rest, ref visitor, out consumed);
                    break;
                case Phase.RamBlockList:
                    status = ReadRamBlock(rest, atEnd, ref visitor, out consumed);
                    break;
                case Phase.MappedRamPages:
                    status = ReadMappedRamPages(rest, ref visitor, out consumed);
                    break;
                case Phase.MappedRamSkip:
                    status = SkipMappedRamGap(rest, out consumed);
                    break;
                case Phase.MappedRamBitmap:
                    status = ReadMappedRamBitmap(rest, ref visitor, out consumed);
                    break;
                case Phase.Header:
                    status = ReadFileHeader(rest, ref visitor, out consumed);
                    break;
                case Phase.AfterHeader:
                    status = ReadConfiguration(rest, ref visitor, out consumed);
                    break;
                case Phase.ConfigurationSubsections:
                    status = ReadConfigurationSubsection(rest, ref visitor, out consumed);
                    break;
                case Phase.TopLevel:
                    status = ReadTopLevel(rest, ref visitor, out consumed);
                    break;
                case Phase.DeviceBody:
                    status = ReadDeviceBody(rest, atEnd, ref visitor, out consumed);
                    break;
                case Phase.Footer:
                    status = ReadFooter(rest, ref visitor, out consumed);
                    break;
                case Phase.AfterEndOfSections:
                    status = ReadAfterEndOfSections(rest, ref visitor, out consumed);
                    break;
                default:
                    return OperationStatus.Done;
            }

            if (status != OperationStatus.Done)
            {
                return status == OperationStatus.NeedMoreData && used > 0 ? OperationStatus.Done : status;
            }

            used += consumed;
            _position += consumed;
            // A PACKAGED just opened: the window was cut for the outer level, so the caller must
            // cut a new one at the package end before a record can run past it.
            if ((_depth > 0 && _position == _packageEnds[_depth - 1]) || _phase == Phase.Done || _depth != depth)
            {
                return OperationStatus.Done;
            }
        }

        return OperationStatus.Done;
    }

    /// <summary>The input ended at a record boundary or inside a record.</summary>
    private OperationStatus EndOfInput(bool midRecord)
    {
        // A stream may end after QEMU_VM_EOF (no vmdesc) and a preempt channel after any whole
        // record, but neither inside one: a vmdesc cut short is a truncated stream.
        if (IsCompleted && !midRecord)
        {
            _phase = Phase.Done;
            return OperationStatus.Done;
        }

        var where = _phase switch
        {
            Phase.Header => "the file header",
            Phase.TopLevel when _depth > 0 => "a PACKAGED sub-stream",
            Phase.TopLevel => "the section list, before QEMU_VM_EOF",
            Phase.RamBody when _preempt => "a RAM record of the preempt channel",
            Phase.RamBody or Phase.RamBlockList => $"RAM section {_current}",
            Phase.MappedRamSkip or Phase.MappedRamBitmap or Phase.MappedRamPages => $"the mapped-ram regions of block {_mrBlock} (bitmap 0x{_mrBitmapOffset:x}, pages 0x{_mrPagesOffset:x}..0x{_mrPagesEnd:x})",
            Phase.DeviceBody => $"the body of section {_current}",
            Phase.Footer => $"the footer of section {_current}",
            Phase.AfterEndOfSections => "the VMDESCRIPTION after QEMU_VM_EOF",
            _ => "a record",
        };
        return Fail(MigrationRules.Truncated, where, $"truncated at 0x{_position:x}: the stream ends inside {where}");
    }

    private OperationStatus Fail(MigrationRule rule, string record, string message, long offsetInRecord = 0)
    {
        Error = new MigrationError(_position + offsetInRecord, record, rule, message);
        return OperationStatus.InvalidData;
    }

    /// <summary>A generated reader said InvalidData: the error names the record, field and spec rule.</summary>
    private OperationStatus FailRecord(in WireError error, MigrationRule? rule = null) =>
        Fail(rule ?? MigrationRules.BadRecord, error.Record, $"{error.Record}.{error.Field}: {error.Rule}", error.Offset);

    private RecordInfo Info(RecordKind kind, ReadOnlySpan<byte> raw, uint sectionId = 0) => new(kind, _position, raw, _depth, sectionId);
}
