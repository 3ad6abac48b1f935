using Qmig.Wire.Streaming;

namespace Qmig.Wire.Analysis;

/// <summary>Counts every record into <paramref name="counts"/>; a struct, so the reader's calls to it are direct.</summary>
/// <param name="counts">Where the counts go.</param>
public readonly struct StreamCountingVisitor(StreamCounts counts) : IMigrationVisitor
{
    /// <inheritdoc/>
    public void OnFileHeader(in RecordInfo record, uint version)
    {
    }

    /// <inheritdoc/>
    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => counts.CountRecord(record.Kind);

    /// <inheritdoc/>
    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) =>
        counts.CountRecord(record.Kind);

    /// <inheritdoc/>
    public void OnSectionHeader(in RecordInfo record, SectionInfo section)
    {
        counts.CountRecord(record.Kind);
        counts.Rounds.OnSectionHeader(record, section);
        if (record.Kind is RecordKind.SectionStart or RecordKind.SectionFull)
        {
            counts.AddSection(section);
        }
    }

    /// <inheritdoc/>
    public void OnRamBlock(in RecordInfo record, RamBlock block) => counts.AddBlock(block);

    /// <inheritdoc/>
    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block) => counts.CountRamRecord(record, ram, block);

    /// <inheritdoc/>
    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
    {
        counts.AddMappedRam(new MappedRamBlockCounts(block, header.BitmapOffset, header.PagesOffset));
        counts.Rounds.OnMappedRamHeader(header);
    }

    /// <inheritdoc/>
    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
    {
        var entry = counts.MappedRam[^1];
        entry.BitmapBytes = bitmap.Length;
        entry.PagesPresent = MappedRamBitmap.CountPresent(bitmap);
    }

    /// <inheritdoc/>
    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
    {
        counts.MappedRam[^1].BytesRead += pages.Length;
        counts.Rounds.OnRamPages(pages.Length);
    }

    /// <inheritdoc/>
    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
    {
    }

    /// <inheritdoc/>
    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => counts.CountRecord(record.Kind);

    /// <inheritdoc/>
    public void OnCommand(in RecordInfo record, in Command command)
    {
        counts.CountRecord(record.Kind);
        counts.Rounds.OnCommand(command);
        counts.CountCommand(command.Cmd);
    }

    /// <inheritdoc/>
    public void OnEndOfSections(in RecordInfo record) => counts.CountRecord(record.Kind);

    /// <inheritdoc/>
    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => counts.CountRecord(record.Kind);
}
