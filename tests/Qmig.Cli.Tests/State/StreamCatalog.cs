using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Tests.State;

/// <summary>Where things sit in a stream: device bodies and PAGE records, with absolute offsets, for tests that edit streams.</summary>
internal sealed class StreamCatalog
{
    public List<(SectionInfo Section, long Offset, byte[] Body)> Bodies { get; } = [];

    public List<(string Block, ulong PageOffset, long DataOffset, int Length)> Pages { get; } = [];

    public int FullSections { get; set; }

    public List<string> FullKeys { get; } = [];

    public static StreamCatalog Read(string path)
    {
        var catalog = new StreamCatalog();
        var reader = new MigrationStreamReader(new MigrationReaderOptions { VmDescription = VmDescriptionDocument.ReadFromFile(path) });
        var visitor = new Visitor(catalog);
        using var file = File.OpenRead(path);
        var error = MigrationStreamDriver.Read(file, reader, ref visitor);
        if (error is not null)
        {
            throw new InvalidOperationException(error.ToString());
        }

        return catalog;
    }

    private readonly struct Visitor(StreamCatalog catalog) : IMigrationVisitor
    {
        public void OnFileHeader(in RecordInfo record, uint version)
        {
        }

        public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
        {
        }

        public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
        {
        }

        public void OnSectionHeader(in RecordInfo record, SectionInfo section)
        {
            if (record.Kind == RecordKind.SectionFull)
            {
                catalog.FullSections++;
                catalog.FullKeys.Add($"{section.Idstr} ({section.Id})");
            }
        }

        public void OnRamBlock(in RecordInfo record, RamBlock block)
        {
        }

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            if (ram.IsPage && block is not null)
            {
                catalog.Pages.Add((block.Name, ram.Offset, record.Offset + record.Length - ram.Page.Length, ram.Page.Length));
            }
        }

        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
        {
        }

        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
        {
        }

        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
        {
        }

        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) =>
            catalog.Bodies.Add((section, record.Offset, body.ToArray()));

        public void OnSectionFooter(in RecordInfo record, SectionInfo section)
        {
        }

        public void OnCommand(in RecordInfo record, in Command command)
        {
        }

        public void OnEndOfSections(in RecordInfo record)
        {
        }

        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
        {
        }
    }
}
