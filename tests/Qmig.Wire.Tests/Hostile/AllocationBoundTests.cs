using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;
using Qmig.Wire.Writing;
using Xunit;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>
/// Length fields that claim up to 4 GiB (PACKAGED, VMDESCRIPTION, a device body sized by the
/// vmdesc, the configuration's machine name, a received bitmap) drive no allocation: reading such
/// a stream allocates less than <see cref="Bound"/> — the reader's own fixed buffers — whether the
/// claim is over the cap (refused at once) or under it (streamed, then truncated).
/// </summary>
public class AllocationBoundTests
{
    /// <summary>The reader's 64 KiB scratch buffer and its bookkeeping, with room to spare; far below any claim.</summary>
    private const long Bound = 256 << 10;

    public static TheoryData<string> Cases => new(StreamCases.Keys);

    private static readonly Dictionary<string, (byte[] Bytes, MigrationReaderOptions Options, MigrationRule Rule)> StreamCases = new()
    {
        ["packaged 4 GiB - 1, over the cap"] = (Stream(w => Packaged(w, uint.MaxValue)), new(), MigrationRules.PackageSize),
        ["packaged 1 GiB - 1, under the cap, streamed"] = (Stream(w => Packaged(w, (1u << 30) - 1)), new(), MigrationRules.Truncated),
        ["vmdescription 4 GiB - 1"] = (Stream(w =>
        {
            w.EndOfSections();
            w.Raw([(byte)VmSectionType.Vmdescription, 0xff, 0xff, 0xff, 0xff, (byte)'{']);
        }), new(), MigrationRules.RecordTooLarge),
        ["device body of 4 GiB - 1 by the vmdesc"] = (Stream(w =>
        {
            w.SectionStart(3, "dev", 0, 1, full: true);
            w.Raw(new byte[100]);
        }), new() { VmDescription = VmDescriptionDocument.Parse("""{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "fields": [{"name": "x", "size": 4294967295}]}]}"""u8) }, MigrationRules.RecordTooLarge),
        ["machine name of 4 GiB - 1"] = (Header([0x07, 0xff, 0xff, 0xff, 0xff, (byte)'p', (byte)'c']), new(), MigrationRules.BadConfiguration),
        ["machine name of 1 GiB, streamed"] = (Header([0x07, 0x40, 0x00, 0x00, 0x00, .. new byte[20000]]), new(), MigrationRules.Truncated),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MainStreamClaimsAllocateNothing(string name)
    {
        var (bytes, options, rule) = StreamCases[name];
        ReadStream(bytes, options);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = ReadStream(bytes, options);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(error?.Rule == rule, $"{name}: expected {rule.Id}, got {error}");
        Assert.True(allocated < Bound, $"{name}: {allocated} bytes allocated");
    }

    [Theory]
    [InlineData(0xFFFFFFFFUL)]
    [InlineData(0xFFFFFFFFFFFFFFF8UL)]
    public void ReceivedBitmapClaimsAllocateNothing(ulong claimed)
    {
        var bytes = new byte[4 + 7 + 8 + 64];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)MigRpMsg.RecvBitmap);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), 7);
        bytes[4] = 6;
        "pc.ram"u8.CopyTo(bytes.AsSpan(5));
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(11), claimed);
        ReadReturnPath(bytes);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = ReadReturnPath(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(MigrationRules.BadBitmapBlob, error?.Rule);
        Assert.True(allocated < Bound, $"{allocated} bytes allocated");
    }

    private static MigrationError? ReadStream(byte[] bytes, MigrationReaderOptions options)
    {
        var reader = new MigrationStreamReader(options);
        var visitor = new ModelLogVisitor([]);

        // Streamed in 4 KiB chunks as a socket would deliver them, then told the input ended.
        var start = 0;
        for (var end = Math.Min(4096, bytes.Length); ; end = Math.Min(end + 4096, bytes.Length))
        {
            var sequence = new ReadOnlySequence<byte>(bytes, start, end - start);
            var status = reader.Read(ref sequence, end == bytes.Length, ref visitor);
            start = end - (int)sequence.Length;
            if (status != OperationStatus.NeedMoreData || end == bytes.Length)
            {
                return reader.Error;
            }
        }
    }

    private static MigrationError? ReadReturnPath(byte[] bytes)
    {
        var reader = new ReturnPathReader();
        var sequence = new ReadOnlySequence<byte>(bytes);
        var visitor = new NullReturnPathVisitor();
        reader.Read(ref sequence, true, ref visitor);
        return reader.Error;
    }

    private static byte[] Header(byte[] rest) => [.. "QEVM"u8, 0, 0, 0, 3, .. rest];

    private static byte[] Stream(Action<MigrationStreamWriter> body)
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new MigrationStreamWriter(output);
        w.FileHeader();
        w.Configuration("pc-i440fx-7.2");
        body(w);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A PACKAGED command claiming <paramref name="length"/>, followed by a little of what it promises.</summary>
    private static void Packaged(MigrationStreamWriter w, uint length)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, length);
        w.Command(MigCmd.Packaged, payload);
        w.SectionStart(3, "dev", 0, 1, full: true);
        w.Raw(Encoding.ASCII.GetBytes(new string('x', 20000)));
    }

    private readonly struct NullReturnPathVisitor : IReturnPathVisitor
    {
        public void OnMessage(in RecordInfo record, in RpMessage message)
        {
        }

        public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob)
        {
        }
    }
}
