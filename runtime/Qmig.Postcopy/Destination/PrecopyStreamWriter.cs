using System.Buffers;
using Qmig.Linux.Memory;
using Qmig.Wire.Streaming;
using Qmig.Wire.Writing;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Writes a received guest as a plain precopy stream that QEMU loads with <c>-incoming</c>: the
/// source's configuration records, one RAM section with every page (zero pages as zero records),
/// the device sections as received, EOF. The layout of QEMU 7.2's own precopy stream; no vmdesc,
/// which QEMU's loader does not need.
/// </summary>
internal static class PrecopyStreamWriter
{
    private const int Chunk = 1 << 20;

    /// <summary>
    /// Writes the stream to <paramref name="output"/>: <paramref name="configurationRecords"/> as received,
    /// then, when the source sent a RAM section (<paramref name="ramSection"/>), every page of
    /// <paramref name="blocks"/>, then <paramref name="devices"/>' sections. Pages are read past the
    /// userfaultfd registration, where a missing page reads as zeros, so call it only once every page is in place.
    /// </summary>
    public static void Write(Stream output, IReadOnlyList<byte[]> configurationRecords, SectionInfo? ramSection, IReadOnlyList<RamBlockMemory> blocks, IReadOnlyList<ReceivedDevice> devices)
    {
        var buffer = new ArrayBufferWriter<byte>(Chunk + (64 << 10));
        var writer = new MigrationStreamWriter(buffer);
        writer.FileHeader();
        foreach (var record in configurationRecords)
        {
            writer.Raw(record);
        }

        if (ramSection is not null)
        {
            writer.SectionStart(ramSection.Id, ramSection.Idstr, ramSection.InstanceId, ramSection.VersionId);
            writer.RamBlockList(blocks.Select(b => (b.Name, b.Length)).ToArray());
            var pages = new byte[Chunk];
            foreach (var block in blocks)
            {
                var name = System.Text.Encoding.UTF8.GetBytes(block.Name);
                for (ulong offset = 0; offset < block.Length; offset += Chunk)
                {
                    var length = (int)Math.Min(Chunk, block.Length - offset);
                    block.ReadUnregistered(offset, pages.AsSpan(0, length));
                    // Target pages, whatever the block's host page size: a huge page goes out as 512 records.
                    for (var at = 0; at < length; at += writer.TargetPageSize)
                    {
                        var page = pages.AsSpan(at, writer.TargetPageSize);
                        if (page.ContainsAnyExcept((byte)0))
                        {
                            writer.RamPage(name, offset + (ulong)at, page);
                        }
                        else
                        {
                            writer.RamZero(name, offset + (ulong)at);
                        }
                    }

                    Drain(buffer, output);
                }
            }

            writer.RamEos();
            writer.Footer(ramSection.Id);
        }

        foreach (var device in devices)
        {
            var section = device.Section;
            writer.SectionStart(section.Id, section.Idstr, section.InstanceId, section.VersionId, full: true);
            writer.Raw(device.Body);
            writer.Footer(section.Id);
            Drain(buffer, output);
        }

        writer.EndOfSections();
        Drain(buffer, output);
        output.Flush();
    }

    private static void Drain(ArrayBufferWriter<byte> buffer, Stream output)
    {
        output.Write(buffer.WrittenSpan);
        buffer.ResetWrittenCount();
    }
}
