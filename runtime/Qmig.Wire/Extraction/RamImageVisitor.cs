using Qmig.Wire.Streaming;

namespace Qmig.Wire.Extraction;

/// <summary>
/// Makes a <see cref="RamImageSet"/> from a stream: each block the block list names is added (unless
/// the caller added them already), every page record and mapped-ram run is applied, and every other
/// record is ignored. A visitor that also wants the devices or the commands keeps one of these and
/// hands it the RAM callbacks, so that pages are applied one way everywhere.
/// </summary>
/// <param name="images">Where the pages go.</param>
/// <param name="addBlocks">False when the caller added the blocks itself (to reuse one image set across passes).</param>
public readonly struct RamImageVisitor(RamImageSet images, bool addBlocks = true) : IMigrationVisitor
{
    /// <inheritdoc/>
    public void OnFileHeader(in RecordInfo record, uint version)
    {
    }

    /// <inheritdoc/>
    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
    {
    }

    /// <inheritdoc/>
    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
    {
    }

    /// <inheritdoc/>
    public void OnSectionHeader(in RecordInfo record, SectionInfo section)
    {
    }

    /// <inheritdoc/>
    public void OnRamBlock(in RecordInfo record, RamBlock block)
    {
        if (addBlocks)
        {
            images.AddBlock(block);
        }
    }

    /// <summary>
    /// Applies the page record to its block's image.
    /// </summary>
    /// <exception cref="MigrationFormatException">
    /// A compressed page does not inflate to exactly one page, or an XBZRLE delta does not apply: the
    /// reader frames these records without decoding them, so the error (the record's offset, the rule)
    /// is raised here.
    /// </exception>
    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (block is null)
        {
            return;
        }

        try
        {
            images.Apply(ram, block);
        }
        catch (InvalidDataException e) when (ram.IsCompress || ram.IsXbzrle)
        {
            var rule = ram.IsCompress ? MigrationRules.BadCompressedPage : MigrationRules.BadXbzrle;
            throw new MigrationFormatException(new MigrationError(record.Offset, "ram_record", rule, e.Message));
        }
    }

    /// <inheritdoc/>
    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
    {
    }

    /// <inheritdoc/>
    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
    {
    }

    /// <inheritdoc/>
    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => images.ApplyPages(block, offset, pages);

    /// <inheritdoc/>
    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
    {
    }

    /// <inheritdoc/>
    public void OnSectionFooter(in RecordInfo record, SectionInfo section)
    {
    }

    /// <inheritdoc/>
    public void OnCommand(in RecordInfo record, in Command command)
    {
    }

    /// <inheritdoc/>
    public void OnEndOfSections(in RecordInfo record)
    {
    }

    /// <inheritdoc/>
    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
    {
    }
}
