using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Qmig.Wire.Streaming;
using Qmig.Wire.Writing;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>A model written out: the bytes, the records a reader must report, and the reader options it needs.</summary>
public sealed record WrittenStream(byte[] Bytes, List<string> Expected, MigrationReaderOptions Options);

/// <summary>
/// Writes a <see cref="StreamModel"/> with <see cref="MigrationStreamWriter"/> (the generated
/// writers) and, alongside, the model-side record list in <see cref="ModelLogVisitor"/>'s format.
/// </summary>
public static class StreamModelWriter
{
    public const int PageSize = 4096;
    private const uint RamSection = 2;

    public static WrittenStream Write(StreamModel model)
    {
        var expected = new List<string>();
        var output = new ArrayBufferWriter<byte>();
        var w = new MigrationStreamWriter(output, PageSize);
        var blocks = model.Blocks;

        w.FileHeader();
        expected.Add("FileHeader 3");
        w.Configuration("pc-i440fx-7.2");
        expected.Add("Configuration pc-i440fx-7.2");
        if (model.OpenReturnPath)
        {
            w.Command(MigCmd.OpenReturnPath);
            expected.Add("Command OpenReturnPath ");
        }

        if (model.Ping is uint ping)
        {
            w.Ping(ping);
            expected.Add($"Command Ping {ping:X8}");
        }

        if (model.Postcopy)
        {
            w.PostcopyAdvise(PageSize, PageSize);
            expected.Add($"Command PostcopyAdvise {PageSize:X16}{PageSize:X16}");
        }

        // The RAM section starts with the block list.
        w.SectionStart(RamSection, "ram", 0, 4);
        expected.Add($"Section SectionStart {RamSection} ram 0 4");
        w.RamBlockList(blocks.Select(b => (b.Name, (ulong)b.Pages * PageSize)).ToArray());
        expected.Add($"Ram MemSize {blocks.Sum(b => (long)b.Pages * PageSize):x}");
        expected.AddRange(blocks.Select(b => $"RamBlock {b.Name} {(ulong)b.Pages * PageSize:x}"));
        EndRamSection(w, model, expected);

        foreach (var iteration in model.Iterations)
        {
            RamPart(w, model, iteration, end: false, expected);
        }

        var nextId = 3u;
        var devices = new List<(DeviceModel Device, uint Id)>();
        foreach (var device in model.Devices)
        {
            Device(w, model, device, nextId, expected);
            devices.Add((device, nextId++));
        }

        if (model.Discard is DiscardModel discard)
        {
            var block = blocks[discard.Block % blocks.Length];
            var ranges = new ArrayBufferWriter<byte>();
            foreach (var (page, pages) in discard.Ranges)
            {
                var start = page % block.Pages;
                var length = 1 + pages % (block.Pages - start);
                DiscardRange.Write(ranges, (ulong)start * PageSize, (ulong)length * PageSize);
            }

            var payload = new ArrayBufferWriter<byte>();
            PostcopyRamDiscard.Write(payload, 0, Encoding.ASCII.GetBytes(block.Name), ranges.WrittenSpan);
            w.Command(MigCmd.PostcopyRamDiscard, payload.WrittenSpan);
            expected.Add($"Command PostcopyRamDiscard {Convert.ToHexString(payload.WrittenSpan)}");
        }

        if (model.Postcopy)
        {
            // The device state travels in one PACKAGED: LISTEN, the devices, RUN.
            var inner = new ArrayBufferWriter<byte>();
            var p = new MigrationStreamWriter(inner, PageSize);
            var innerExpected = new List<string>();
            p.Command(MigCmd.PostcopyListen);
            innerExpected.Add("Command PostcopyListen ");
            foreach (var device in model.PackagedDevices)
            {
                Device(p, model, device, nextId, innerExpected);
                devices.Add((device, nextId++));
            }

            p.Command(MigCmd.PostcopyRun);
            innerExpected.Add("Command PostcopyRun ");
            w.Packaged(inner.WrittenSpan);
            expected.Add($"Command Packaged {inner.WrittenCount:X8}");
            expected.AddRange(innerExpected);
        }

        RamPart(w, model, model.FinalPages, end: true, expected);
        w.EndOfSections();
        expected.Add("Eof");

        MigrationReaderOptions options = new() { SectionFooters = model.Footers ? null : false };
        if (model.WithVmDescription)
        {
            var json = VmDescriptionJson(devices);
            w.VmDescription(json);
            expected.Add($"VmDescription {json.Length}");
            options = options with { VmDescription = VmDescriptionDocument.Parse(json) };
        }

        return new WrittenStream(output.WrittenSpan.ToArray(), expected, options);
    }

    /// <summary>A vmdesc that sizes every device body as one buffer field.</summary>
    private static byte[] VmDescriptionJson(List<(DeviceModel Device, uint Id)> devices)
    {
        var entries = devices.Select(d =>
            $"{{\"name\": \"{d.Device.Idstr}\", \"instance_id\": {d.Device.Instance}, \"vmsd_name\": \"{d.Device.Idstr}\", \"version\": {d.Device.Version}, " +
            $"\"fields\": [{{\"name\": \"data\", \"type\": \"buffer\", \"size\": {d.Device.Body.Length}}}]}}");
        return Encoding.ASCII.GetBytes($"{{\"page_size\": {PageSize}, \"devices\": [{string.Join(", ", entries)}]}}");
    }

    private static void Device(MigrationStreamWriter w, StreamModel model, DeviceModel device, uint id, List<string> expected)
    {
        // Without a vmdesc the body is found by its footer, so it must not hold a footer byte.
        var body = model.WithVmDescription ? device.Body : device.Body.Select(b => b == 0x7e ? (byte)0x7f : b).ToArray();
        w.SectionStart(id, device.Idstr, device.Instance, device.Version, full: true);
        expected.Add($"Section SectionFull {id} {device.Idstr} {device.Instance} {device.Version}");
        w.Raw(body);
        expected.Add($"Body {id} {Convert.ToHexString(body)}");
        if (model.Footers)
        {
            w.Footer(id);
            expected.Add($"Footer {id}");
        }
    }

    private static void RamPart(MigrationStreamWriter w, StreamModel model, PageModel[] pages, bool end, List<string> expected)
    {
        // QEMU names the block again at the start of every iteration.
        w.ForgetCurrentBlock();
        w.SectionPart(RamSection, end);
        expected.Add($"Section {(end ? "SectionEnd" : "SectionPart")} {RamSection} ram 0 4");
        Span<byte> page = stackalloc byte[PageSize];
        foreach (var record in pages)
        {
            var block = model.Blocks[record.Block % model.Blocks.Length];
            var name = Encoding.ASCII.GetBytes(block.Name);
            var offset = (ulong)(record.Page % block.Pages) * PageSize;
            switch (record.Kind)
            {
                case PageKind.Zero:
                    w.RamZero(name, offset, record.Fill);
                    expected.Add($"Ram Zero {block.Name}@{offset:x} {record.Fill}");
                    break;
                case PageKind.Page:
                    for (var i = 0; i < PageSize; i++)
                    {
                        page[i] = (byte)(record.Data[i % record.Data.Length] + i / record.Data.Length);
                    }

                    w.RamPage(name, offset, page);
                    expected.Add($"Ram Page {block.Name}@{offset:x} {Convert.ToHexString(SHA1.HashData(page))}");
                    break;
                case PageKind.Xbzrle:
                    w.RamXbzrle(name, offset, record.Data);
                    expected.Add($"Ram Xbzrle {block.Name}@{offset:x} {Convert.ToHexString(record.Data)}");
                    break;
            }
        }

        EndRamSection(w, model, expected);
    }

    private static void EndRamSection(MigrationStreamWriter w, StreamModel model, List<string> expected)
    {
        w.RamEos();
        expected.Add("Ram Eos");
        if (model.Footers)
        {
            w.Footer(RamSection);
            expected.Add($"Footer {RamSection}");
        }
    }
}
