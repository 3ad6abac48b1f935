using Qmig.Wire;
using Qmig.Wire.Extraction;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>
/// What a saved stream holds, read the way <c>qmig extract</c> reads it: every page applied in
/// stream order to a <see cref="RamImageSet"/>, plus the byte ranges a saved guest must reproduce
/// (the configuration, the device sections after the last RAM section), found from the records'
/// own offsets rather than by the code under test.
/// </summary>
internal sealed class ReferenceReading : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("qmig-saved-").FullName;

    private ReferenceReading()
    {
    }

    public long StreamStart { get; private set; }

    /// <summary>Where the first record after the configuration begins.</summary>
    public long FirstSectionRecord { get; private set; } = -1;

    /// <summary>The byte after the last record of any RAM section (its footer, or its EOS without footers).</summary>
    public long RamEnd { get; private set; }

    /// <summary>Where QEMU_VM_EOF is.</summary>
    public long EndOfSections { get; private set; } = -1;

    public int PageSize { get; private set; }

    public List<(RamBlock Block, byte[] Image)> Images { get; } = [];

    /// <summary>Pages whose last record is XBZRLE or a ZERO with a non-zero fill: the ones whose final content is nowhere in the file.</summary>
    public int PagesEndingDecoded { get; private set; }

    /// <summary>The offset of the first COMPRESS_PAGE record's payload and its length, or -1.</summary>
    public (long Offset, int Length) FirstCompressed { get; private set; } = (-1, 0);

    public static ReferenceReading Of(string path, long startOffset = 0)
    {
        var reading = new ReferenceReading { StreamStart = startOffset };
        var vmdesc = VmDescriptionDocument.ReadFromFile(path);
        var reader = new MigrationStreamReader(new MigrationReaderOptions { StartOffset = startOffset, VmDescription = vmdesc });
        var lastKind = new Dictionary<(int Block, ulong Offset), bool>();
        using (var images = new RamImageSet(reading._directory, reader.TargetPageSize))
        {
            var visitor = new Visitor(reading, images, lastKind);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
            file.Seek(startOffset, SeekOrigin.Begin);
            var error = MigrationStreamDriver.ReadFile(file, reader, ref visitor);
            if (error is not null)
            {
                throw new MigrationFormatException(error);
            }

            reading.PageSize = reader.TargetPageSize;
            foreach (var (block, imagePath) in images.Files)
            {
                reading.Images.Add((block, []));
            }
        }

        // The image files are complete once the set is disposed (unmapped).
        for (var i = 0; i < reading.Images.Count; i++)
        {
            var block = reading.Images[i].Block;
            reading.Images[i] = (block, File.ReadAllBytes(Path.Combine(reading._directory, RamImageSet.RelativePath(block.Name))));
        }

        reading.PagesEndingDecoded = lastKind.Count(pair => pair.Value);
        return reading;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private readonly struct Visitor(ReferenceReading reading, RamImageSet images, Dictionary<(int, ulong), bool> lastKind) : IMigrationVisitor
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
            TopLevel(record);
            if (section.IsRam)
            {
                reading.RamEnd = record.Offset + record.Length;
            }
        }

        public void OnRamBlock(in RecordInfo record, RamBlock block)
        {
            images.AddBlock(block);
            reading.RamEnd = Math.Max(reading.RamEnd, record.Offset + record.Length);
        }

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            reading.RamEnd = Math.Max(reading.RamEnd, record.Offset + record.Length);
            if (block is null)
            {
                return;
            }

            images.Apply(ram, block);
            lastKind[(block.Index, ram.Offset)] = ram.IsXbzrle || (ram.IsZero && ram.Fill != 0);
            if (ram.IsCompress && reading.FirstCompressed.Offset < 0)
            {
                reading.FirstCompressed = (record.Offset + record.Length - ram.LenCompressed, (int)ram.LenCompressed);
            }
        }

        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
        {
        }

        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
        {
        }

        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) => images.ApplyPages(block, offset, pages);

        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
        {
        }

        public void OnSectionFooter(in RecordInfo record, SectionInfo section)
        {
            if (section.IsRam)
            {
                reading.RamEnd = record.Offset + record.Length;
            }
        }

        public void OnCommand(in RecordInfo record, in Command command) => TopLevel(record);

        public void OnEndOfSections(in RecordInfo record)
        {
            TopLevel(record);
            reading.EndOfSections = record.Offset;
        }

        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
        {
        }

        private void TopLevel(in RecordInfo record)
        {
            if (reading.FirstSectionRecord < 0)
            {
                reading.FirstSectionRecord = record.Offset;
            }
        }
    }
}
