using Qmig.Wire.IO;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.Extraction;

public sealed unsafe partial class SavedStream
{
    /// <summary>
    /// The one pass over a saved stream: records where each page's latest copy is, applies XBZRLE
    /// deltas and fill bytes into the decoded-page store, inflates each compressed page once to
    /// check it, and notes the byte ranges of the configuration and of the FULL sections. What the
    /// reader accepts but a saved guest cannot be made of (other iterable devices, a recorded
    /// postcopy migration, x-ignore-shared) stops the pass with an error naming the record.
    /// </summary>
    private sealed class Indexer(FileMapping mapping, long maxRamBytes, long maxDecodedPageBytes)
    {
        private readonly byte* _base = mapping.Pointer;
        private byte[] _scratch = [];
        private MigrationStreamReader? _reader;
        private long _ramBytes;
        private bool _setupPhaseOver;
        private long _pendingStart = -1;
        private long _pendingEnd;
        private bool _pendingEarly;
        private long _mappedRamPagesOffset;

        /// <summary>What the pass has found so far; the caller owns it (and disposes it when the pass fails).</summary>
        public SavedStreamLayout Layout { get; } = new();

        private List<BlockPageIndex> Blocks => Layout.Blocks;

        private int PageSize => Layout.PageSize;

        private DecodedPageStore Decoded => Layout.Decoded;

        /// <summary>The first reason the stream cannot be a saved guest; once set, later records are ignored.</summary>
        public MigrationError? Error { get; private set; }

        public void Run(MigrationStreamReader reader, FileStream file, long start)
        {
            _reader = reader;
            Layout.PageSize = reader.TargetPageSize;
            var visitor = new Visitor(this);
            MigrationError? readerError;
            try
            {
                readerError = ReadStream(reader, file, start, ref visitor);
            }
            catch (OutOfMemoryException)
            {
                throw Invalid(reader.Position, "ram_block_entry", MigrationRules.RecordTooLarge,
                    $"no memory for the page index of {_ramBytes >> 20} MiB of guest RAM (8 bytes a page) or for its decoded pages");
            }

            // The error nearer the start is the cause: the reader goes on to the end of its window after the index stopped.
            var error = Error is not null && (readerError is null || Error.Offset <= readerError.Offset) ? Error : readerError;
            if (error is not null)
            {
                throw new MigrationFormatException(error);
            }

            if (!reader.IsCompleted)
            {
                throw Invalid(reader.Position, "stream", MigrationRules.Truncated, $"the stream ends at 0x{reader.Position:x} before QEMU_VM_EOF");
            }
        }

        /// <summary>
        /// The pass itself. A precopy stream is read with read(2) (on this kind of machine a third of
        /// the CPU time of populating and unmapping a mapping of the whole file), and its pages are
        /// later served from the mapping, which they then enter one by one as they are asked for. A
        /// mapped-ram stream is read through the mapping without populating it, so its pages regions
        /// stay on disk. The configuration, at the start, says which: it is read from the mapping first.
        /// </summary>
        private MigrationError? ReadStream(MigrationStreamReader reader, FileStream file, long start, ref Visitor visitor)
        {
            var head = (int)Math.Min(64 << 10, mapping.Length - start);
            var sequence = new System.Buffers.ReadOnlySequence<byte>(new UnmanagedMemory(_base + start, head).Memory);
            var status = reader.Read(ref sequence, isFinalBlock: start + head == mapping.Length, ref visitor);
            if (status != System.Buffers.OperationStatus.NeedMoreData)
            {
                return reader.Error;
            }

            if (reader.ValidatedCapabilities.Contains("mapped-ram"))
            {
                return MigrationStreamDriver.ReadMapped(mapping, reader.Position, reader, ref visitor, populateMappedRamPages: false);
            }

            file.Seek(reader.Position, SeekOrigin.Begin);
            return MigrationStreamDriver.Read(file, reader, ref visitor);
        }

        private bool Failed => Error is not null;

        private void Fail(long offset, string record, MigrationRule rule, string message) => Error ??= new MigrationError(offset, record, rule, message);

        private void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
        {
            Layout.MachineType = System.Text.Encoding.UTF8.GetString(machineName);
            Layout.Configuration = (record.Offset, record.Offset + record.Length);
        }

        private void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name)
        {
            Layout.Configuration = (Layout.Configuration.Start, record.Offset + record.Length);
            Layout.ConfigurationSubsections.Add((System.Text.Encoding.ASCII.GetString(name), record.Offset, record.Offset + record.Length));
        }

        /// <summary>A new top-level record: the FULL section before it, if any, is complete.</summary>
        private void EndPendingSection()
        {
            if (_pendingStart < 0)
            {
                return;
            }

            (_pendingEarly ? Layout.EarlySetupSections : Layout.DeviceSections).Add((_pendingStart, _pendingEnd));
            _pendingStart = -1;
        }

        private void OnSectionHeader(in RecordInfo record, SectionInfo section)
        {
            EndPendingSection();
            if (record.Kind == RecordKind.SectionFull)
            {
                _pendingStart = record.Offset;
                _pendingEnd = record.Offset + record.Length;
                _pendingEarly = !_setupPhaseOver;
                return;
            }

            if (!section.IsRam)
            {
                Fail(record.Offset, section.Idstr, MigrationRules.Unsupported,
                    $"iterable section {section}: only RAM is served from a saved stream, and this device's live state would be lost");
                return;
            }

            _setupPhaseOver |= record.Kind is RecordKind.SectionPart or RecordKind.SectionEnd;
        }

        private void ExtendPendingSection(in RecordInfo record)
        {
            if (_pendingStart >= 0)
            {
                _pendingEnd = record.Offset + record.Length;
            }
        }

        private void OnCommand(in RecordInfo record, in Command command)
        {
            EndPendingSection();
            if (command.Cmd is MigCmd.PostcopyListen or MigCmd.PostcopyRun or MigCmd.PostcopyRamDiscard or MigCmd.Packaged)
            {
                Fail(record.Offset, "command", MigrationRules.Unsupported,
                    $"{command.Cmd.ToQemuName()}: a recorded postcopy migration, whose pages may be on a preempt channel that is not here; " +
                    "serve the stream qmig receive wrote (OUT.mig) instead");
            }
        }

        private void OnRamBlock(in RecordInfo record, RamBlock block)
        {
            if (block.MrAddr is not null)
            {
                Fail(record.Offset, "ram_block_entry", MigrationRules.Unsupported,
                    "the stream was saved with x-ignore-shared: the pages of shared memory backends are not in it");
                return;
            }

            if (block.Index == 0 && Blocks.Count > 0)
            {
                Fail(record.Offset, "ram_block_entry", MigrationRules.Unsupported, "a second MEM_SIZE block list: the stream holds more than one migration");
                return;
            }

            _ramBytes += (long)Math.Min(block.UsedLength, (ulong)long.MaxValue / 2);
            if (_ramBytes > maxRamBytes)
            {
                Fail(record.Offset, "ram_block_entry", MigrationRules.RecordTooLarge,
                    $"block {block} brings the guest's RAM to {_ramBytes} bytes, over the cap of {maxRamBytes} (SavedStreamOptions.MaxRamBytes)");
                return;
            }

            Layout.PageSize = _reader!.TargetPageSize;
            Layout.MappedRam = _reader.ValidatedCapabilities.Contains("mapped-ram");
            Blocks.Add(Layout.MappedRam ? BlockPageIndex.ForMappedRam(block, PageSize) : BlockPageIndex.ForRecords(block, PageSize));
        }

        private void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap, long pagesOffset)
        {
            var index = Blocks[block.Index];
            if (pagesOffset + (index.PageCount * PageSize) > mapping.Length)
            {
                Fail(record.Offset, "mapped_ram_header", MigrationRules.MappedRamLayout,
                    $"block {block}: its pages region (0x{pagesOffset:x}, 0x{block.UsedLength:x} bytes) runs past the end of the file (0x{mapping.Length:x})");
                return;
            }

            index.SetMappedRamLayout(pagesOffset, bitmap);
        }

        private void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            if (block is null)
            {
                return;
            }

            // Pages end the set-up phase too: the stream qmig receive writes sends them all in the RAM START.
            _setupPhaseOver = true;
            var index = Blocks[block.Index];
            if (index.IsMappedRam)
            {
                Fail(record.Offset, "ram_record", MigrationRules.MisplacedRecord, $"a {ram.Flags & ~RamSaveFlag.ContinueBlock} record for block {block} of a mapped-ram stream, whose pages are in its pages region");
                return;
            }

            // The reader has checked that the whole page lies inside the block.
            var page = (long)((ram.AddrFlags & ~((ulong)PageSize - 1)) / (ulong)PageSize);
            var previous = index[page];
            // The payload is the record's tail: a whole page, or a zlib stream after its length.
            var payloadAt = record.Offset + record.Length;
            if (ram.IsPage)
            {
                Replace(index, page, previous, BlockPageIndex.FilePage | (ulong)(payloadAt - PageSize));
            }
            else if (ram.IsZero && ram.Fill == 0)
            {
                Replace(index, page, previous, 0);
            }
            else if (ram.IsCompress)
            {
                EnsureScratch();
                if (!CompressedPage.TryInflate(ram.Compressed, _scratch, out var problem))
                {
                    Fail(record.Offset, "ram_record", MigrationRules.BadCompressedPage, $"the compressed page at 0x{page * PageSize:x} of block {block} {problem}");
                    return;
                }

                Replace(index, page, previous, BlockPageIndex.CompressedPage | (ulong)(payloadAt - ram.LenCompressed));
            }
            else if (!DecodedPageFits(record, previous))
            {
                return;
            }
            else if (ram.IsZero)
            {
                Decoded.Page(Decode(index, page, previous)).Fill(ram.Fill);
            }
            else if (ram.IsXbzrle)
            {
                // The delta applies to the page as the destination has it: the latest copy before it.
                var slot = Decode(index, page, previous);
                if ((previous & BlockPageIndex.KindMask) != BlockPageIndex.DecodedPage)
                {
                    Materialize(previous, Decoded.Page(slot));
                }

                if (!Xbzrle.TryApply(ram.XbzrleData, Decoded.Page(slot), out var problem))
                {
                    Fail(record.Offset, "ram_record", MigrationRules.BadXbzrle, $"XBZRLE delta for page 0x{page * PageSize:x} of block {block}: {problem}");
                }
            }
        }

        private bool DecodedPageFits(in RecordInfo record, ulong previous)
        {
            if ((previous & BlockPageIndex.KindMask) == BlockPageIndex.DecodedPage || Decoded.BytesAfterOneMore <= maxDecodedPageBytes)
            {
                return true;
            }

            Fail(record.Offset, "ram_record", MigrationRules.RecordTooLarge,
                $"more pages to decode (XBZRLE, fill bytes) than fit in {maxDecodedPageBytes} bytes (SavedStreamOptions.MaxDecodedPageBytes)");
            return false;
        }

        /// <summary>Points the page at its new copy; a decoded slot it had is free again.</summary>
        private void Replace(BlockPageIndex index, long page, ulong previous, ulong entry)
        {
            if ((previous & BlockPageIndex.KindMask) == BlockPageIndex.DecodedPage)
            {
                Decoded.Release((long)(previous & BlockPageIndex.ValueMask));
            }

            index[page] = entry;
        }

        /// <summary>The page's decoded slot: the one it has, or a new one (whose content the caller sets).</summary>
        private long Decode(BlockPageIndex index, long page, ulong previous)
        {
            if ((previous & BlockPageIndex.KindMask) == BlockPageIndex.DecodedPage)
            {
                return (long)(previous & BlockPageIndex.ValueMask);
            }

            var slot = Decoded.Allocate();
            index[page] = BlockPageIndex.DecodedPage | (ulong)slot;
            return slot;
        }

        /// <summary>Writes the content an entry (other than a decoded slot) stands for into <paramref name="page"/>.</summary>
        private void Materialize(ulong entry, Span<byte> page)
        {
            var value = (long)(entry & BlockPageIndex.ValueMask);
            switch (entry & BlockPageIndex.KindMask)
            {
                case BlockPageIndex.FilePage:
                    new ReadOnlySpan<byte>(_base + value, PageSize).CopyTo(page);
                    break;
                case BlockPageIndex.CompressedPage:
                    var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(_base + value - 4, 4));
                    // Checked when its record was read.
                    CompressedPage.TryInflate(new ReadOnlySpan<byte>(_base + value, (int)length), page, out _);
                    break;
                default:
                    page.Clear();
                    break;
            }
        }

        private void EnsureScratch()
        {
            if (_scratch.Length != PageSize)
            {
                _scratch = new byte[PageSize];
            }
        }

        /// <summary>Hands the reader's records to the indexer; the struct lets the reader's calls devirtualize.</summary>
        private readonly struct Visitor(Indexer indexer) : IMigrationVisitor
        {
            public void OnFileHeader(in RecordInfo record, uint version)
            {
            }

            public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
            {
                if (!indexer.Failed)
                {
                    indexer.OnConfiguration(record, machineName);
                }
            }

            public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
            {
                if (!indexer.Failed)
                {
                    indexer.OnConfigurationSubsection(record, name);
                }
            }

            public void OnSectionHeader(in RecordInfo record, SectionInfo section)
            {
                if (!indexer.Failed)
                {
                    indexer.OnSectionHeader(record, section);
                }
            }

            public void OnRamBlock(in RecordInfo record, RamBlock block)
            {
                if (!indexer.Failed)
                {
                    indexer.OnRamBlock(record, block);
                }
            }

            public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
            {
                if (!indexer.Failed)
                {
                    indexer.OnRamRecord(record, ram, block);
                }
            }

            public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
            {
                if (!indexer.Failed)
                {
                    indexer._mappedRamPagesOffset = (long)header.PagesOffset;
                }
            }

            public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
            {
                if (!indexer.Failed)
                {
                    indexer.OnMappedRamBitmap(record, block, bitmap, indexer._mappedRamPagesOffset);
                }
            }

            // The bitmap already says where these pages are; reading them here would bring the whole region in.
            public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
            {
            }

            public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
            {
                if (!indexer.Failed)
                {
                    indexer.ExtendPendingSection(record);
                }
            }

            public void OnSectionFooter(in RecordInfo record, SectionInfo section)
            {
                if (!indexer.Failed)
                {
                    indexer.ExtendPendingSection(record);
                }
            }

            public void OnCommand(in RecordInfo record, in Command command)
            {
                if (!indexer.Failed)
                {
                    indexer.OnCommand(record, command);
                }
            }

            public void OnEndOfSections(in RecordInfo record)
            {
                if (!indexer.Failed)
                {
                    indexer.EndPendingSection();
                }
            }

            public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
            {
            }
        }
    }
}
