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

    /// <inheritdoc/>
    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (block is not null)
        {
            images.Apply(ram, block);
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
