using System.Buffers;
using Qmig.Wire.Streaming;
using Qmig.Wire.Writing;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>Reading RAM records allocates nothing per record once the block list is known.</summary>
[Collection(nameof(Allocation.AllocationMeasurements))]
public class ZeroAllocationTests(ITestOutputHelper output)
{
    private readonly struct NoVisitor : IMigrationVisitor
    {
        public void OnFileHeader(in RecordInfo record, uint version) { }
        public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) { }
        public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) { }
        public void OnSectionHeader(in RecordInfo record, SectionInfo section) { }
        public void OnRamBlock(in RecordInfo record, RamBlock block) { }
        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block) { }
        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) { }
        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap) { }
        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages) { }
        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) { }
        public void OnSectionFooter(in RecordInfo record, SectionInfo section) { }
        public void OnCommand(in RecordInfo record, in Command command) { }
        public void OnEndOfSections(in RecordInfo record) { }
        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) { }
    }

    private static (byte[] Prefix, byte[] Body) SyntheticStream(int records)
    {
        var prefix = new ArrayBufferWriter<byte>();
        var writer = new MigrationStreamWriter(prefix);
        writer.FileHeader();
        writer.Configuration("pc-i440fx-7.2");
        writer.SectionStart(2, "ram", 0, 4);
        writer.RamBlockList([("pc.ram", (ulong)records * 4096), ("pc.bios", 0x40000)]);
        writer.RamEos();
        writer.Footer(2);

        var body = new ArrayBufferWriter<byte>();
        writer = new MigrationStreamWriter(body);
        writer.SectionPart(2);
        var page = new byte[4096];
        new Random(7).NextBytes(page);
        var block = "pc.ram"u8;
        for (var i = 0; i < records; i++)
        {
            // Both a page with and without block id, zero pages and a block switch now and then.
            if (i % 3 == 0)
            {
                writer.RamPage(block, (ulong)i * 4096, page);
            }
            else if (i % 1000 == 999)
            {
                writer.RamZero("pc.bios"u8, 0);
            }
            else
            {
                writer.RamZero(block, (ulong)i * 4096);
            }
        }

        writer.RamEos();
        writer.Footer(2);
        return (prefix.WrittenSpan.ToArray(), body.WrittenSpan.ToArray());
    }

    [Fact]
    public void ReadingRamRecordsAllocatesNothingPerRecord()
    {
        const int records = 300_000;
        var (prefix, body) = SyntheticStream(records);
        Measure(prefix, body); // warm-up: JIT and tiering
        Measure(prefix, body);
        var allocated = Measure(prefix, body);
        output.WriteLine($"{records} RAM records ({body.Length} bytes): {allocated} bytes allocated");
        Assert.Equal(0, allocated);
    }

    private static long Measure(byte[] prefix, byte[] body)
    {
        var reader = new MigrationStreamReader();
        var visitor = new NoVisitor();
        var sequence = new ReadOnlySequence<byte>(prefix);
        Assert.Equal(OperationStatus.NeedMoreData, reader.Read(ref sequence, false, ref visitor));
        sequence = new ReadOnlySequence<byte>(body);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var status = reader.Read(ref sequence, false, ref visitor);
        var after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(OperationStatus.NeedMoreData, status);
        Assert.Equal(prefix.Length + body.Length, reader.Position);
        return after - before;
    }
}
