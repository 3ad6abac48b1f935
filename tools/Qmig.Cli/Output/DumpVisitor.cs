using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Output;

/// <summary>
/// Hands every record, described, to a renderer; with <paramref name="foldPageRuns"/>, consecutive
/// page records of one kind and block go as one line (<see cref="PageRun"/>). Call
/// <see cref="Flush"/> after the stream is read.
/// </summary>
internal sealed class DumpVisitor(IRecordRenderer renderer, bool hex, bool foldPageRuns = false) : IMigrationVisitor
{
    private readonly PageRun _run = new();

    /// <summary>Writes the run of pages still being gathered.</summary>
    public void Flush()
    {
        if (!_run.IsEmpty)
        {
            renderer.Write(_run.Take());
        }
    }

    private void Write(RecordFields fields)
    {
        Flush();
        renderer.Write(fields);
    }

    private RecordFields New(in RecordInfo record, string? type = null, bool insideSection = false) =>
        new(type ?? record.Kind.QemuName(), record.Offset, record.Length, record.Depth, record.SectionId, hex ? record.Raw.ToArray() : null)
        {
            InsideSection = insideSection,
        };

    public void OnFileHeader(in RecordInfo record, uint version) => Write(New(record).Add("magic", "QEVM").Add("version", version));

    public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) =>
        Write(New(record).Add("machine", RecordDescriber.Text(machineName)));

    public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
    {
        var fields = New(record, insideSection: true);
        RecordDescriber.DescribeSubsection(fields, name, version, body);
        Write(fields);
    }

    public void OnSectionHeader(in RecordInfo record, SectionInfo section) => Write(New(record)
        .Add("idstr", section.Idstr).Add("instance_id", section.InstanceId).Add("version_id", section.VersionId));

    public void OnRamBlock(in RecordInfo record, RamBlock block)
    {
        var fields = New(record, insideSection: true).Add("idstr", block.Name).Add("used_length", new Hex(block.UsedLength));
        if (block.PageSize is ulong pageSize)
        {
            fields.Add("page_size", new Hex(pageSize));
        }

        if (block.MrAddr is ulong mrAddr)
        {
            fields.Add("mr_addr", new Hex(mrAddr));
        }

        Write(fields);
    }

    public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
    {
        if (foldPageRuns && _run.Continues(ram, block))
        {
            _run.Add(record, ram);
            return;
        }

        var fields = New(record, "RAM", insideSection: true);
        RecordDescriber.DescribeRam(fields, ram, block);
        if (foldPageRuns && PageRun.IsPageRecord(ram))
        {
            Flush();
            _run.Start(fields, record, ram, block);
            return;
        }

        Write(fields);
    }

    public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) =>
        Write(New(record, insideSection: true).Add("idstr", block.Name).Add("version", header.Version)
            .Add("page_size", new Hex(header.PageSize)).Add("bitmap_offset", new Hex(header.BitmapOffset)).Add("pages_offset", new Hex(header.PagesOffset)));

    public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) =>
        Write(New(record, insideSection: true).Add("idstr", block.Name).Add("pages_present", MappedRamBitmap.CountPresent(bitmap)));

    public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) =>
        Write(New(record, insideSection: true).Add("idstr", block.Name).Add("offset", new Hex(offset)).Add("length", new Hex((ulong)pages.Length)));

    public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) =>
        Write(New(record, "DEVICE_STATE", insideSection: true).Add("idstr", section.Idstr)
            .Add("described", section.Description is not null));

    public void OnSectionFooter(in RecordInfo record, SectionInfo section) => Write(New(record).Add("idstr", section.Idstr));

    public void OnCommand(in RecordInfo record, in Command command)
    {
        var fields = New(record);
        RecordDescriber.DescribeCommand(fields, command);
        Write(fields);
    }

    public void OnEndOfSections(in RecordInfo record) => Write(New(record));

    public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => Write(New(record).Add("json_length", json.Length));
}
