using System.Buffers;
using Qmig.Wire;
using Qmig.Wire.Extraction;

namespace Qmig.Postcopy.Source;

/// <summary>
/// A saved migration stream as the guest a postcopy source migrates: any stream
/// <see cref="SavedStream"/> opens (QEMU 7.2 and 10.x precopy files, mapped-ram with or without
/// multifd, libvirt save images, a stream at an offset, <c>qmig receive</c>'s OUT.mig). The file is
/// mapped; by default runs of pages are read from it with preadv into the source's own memory and sent from
/// there, or with <see cref="PagesStayInPlace"/> sent straight from the mapping. The guest never changes, so
/// it has no dirty-page source.
/// </summary>
public sealed class SavedStreamGuest : IMigrationGuest, IDisposable
{
    private SavedStreamGuest(SavedStream stream)
    {
        Stream = stream;
        RamBlocks = [.. stream.Blocks.Select(b => new GuestRamBlock(b.Name, (long)b.UsedLength, (int)(b.PageSize ?? (ulong)stream.TargetPageSize)))];
        ConfigurationRecord = stream.IsMappedRam ? WithoutCapability(stream, MappedRamCapability) : stream.ConfigurationRecord;
    }

    /// <summary>The indexed stream: where it begins, whether it is mapped-ram, how much memory its index takes.</summary>
    public SavedStream Stream { get; }

    /// <inheritdoc/>
    public int TargetPageSize => Stream.TargetPageSize;

    /// <summary>
    /// The MEM_SIZE list of the stream. A block's page size is the target page size unless the list
    /// carried one (a stream saved with postcopy-ram on and huge pages): a precopy file does not say
    /// that a block was on huge pages.
    /// </summary>
    public IReadOnlyList<GuestRamBlock> RamBlocks { get; }

    /// <inheritdoc/>
    public string? MachineType => Stream.MachineType;

    /// <summary>
    /// The stream's configuration record, except that a mapped-ram stream's <c>configuration/capabilities</c>
    /// subsection loses <c>mapped-ram</c> (and the subsection goes when nothing is left in it). The guest
    /// goes out as page records, not as a mapped-ram file; a QEMU destination refuses a configuration whose
    /// validated capabilities differ from its own, and it cannot have mapped-ram on together with postcopy-ram.
    /// </summary>
    public ReadOnlyMemory<byte> ConfigurationRecord { get; }

    /// <inheritdoc/>
    public IReadOnlyList<ReadOnlyMemory<byte>> EarlySetupSections => Stream.EarlySetupSections;

    /// <inheritdoc/>
    public IReadOnlyList<ReadOnlyMemory<byte>> DeviceSections => Stream.DeviceSections;

    /// <inheritdoc/>
    public IDirtyPageSource? DirtyPages => null;

    /// <summary>
    /// Whether pages go to a plain socket straight from the file's mapping: the kernel copies each page
    /// from the page cache into the socket, and this process copies none (a page decoded from XBZRLE or
    /// from compression goes from where it was decoded). Off by default, when runs of pages are read with
    /// preadv into the source's own memory and sent from there: on the two-core paravirtualized machine this
    /// was measured on, the page-table work of touching every page of the mapping cost more than that copy
    /// (tools/Qmig.Benchmarks/Serve/RESULTS.md). Set it before a migration starts.
    /// </summary>
    public bool PagesStayInPlace { get; set; }

    /// <summary>Maps and indexes the stream at <paramref name="path"/>; see <see cref="SavedStream.Open"/> for what it throws.</summary>
    public static SavedStreamGuest Open(string path, SavedStreamOptions? options = null) => new(SavedStream.Open(path, options));

    /// <inheritdoc/>
    public ReadOnlySpan<byte> ReadPage(int blockIndex, long targetPage, Span<byte> scratch) => Stream.ReadPage(blockIndex, targetPage, scratch);

    /// <inheritdoc/>
    /// <remarks>With preadv, a run of page records per call (<see cref="SavedStream.ReadPages"/>).</remarks>
    public void ReadPages(int blockIndex, long firstTargetPage, Span<byte> destination, Span<bool> zero) =>
        Stream.ReadPages(blockIndex, firstTargetPage, destination, zero);

    /// <summary>Unmaps the file; pages and sections handed out before must not be used after.</summary>
    public void Dispose() => Stream.Dispose();

    private const string MappedRamCapability = "mapped-ram";
    private const string CapabilitiesSubsection = "configuration/capabilities";

    /// <summary>The configuration record with <paramref name="capability"/> taken out of its capabilities subsection; every other byte as in the file.</summary>
    private static ReadOnlyMemory<byte> WithoutCapability(SavedStream stream, string capability)
    {
        var record = stream.ConfigurationRecord;
        var subsections = stream.ConfigurationSubsections;
        var output = new ArrayBufferWriter<byte>(record.Length);
        output.Write(record.Span[..(record.Length - subsections.Sum(s => s.Record.Length))]);
        var dropped = System.Text.Encoding.ASCII.GetBytes(capability);
        foreach (var subsection in subsections)
        {
            if (subsection.Name != CapabilitiesSubsection)
            {
                output.Write(subsection.Record.Span);
                continue;
            }

            // The stream was read with the generated reader at open, so both reads succeed.
            var bytes = subsection.Record.Span;
            SubsectionHeader.TryRead(bytes, out var header, out var headerLength);
            ConfigCapabilities.TryRead(bytes[headerLength..], out var capabilities, out _);
            var kept = new ArrayBufferWriter<byte>();
            foreach (var name in capabilities.Caps)
            {
                if (!name.Name.SequenceEqual(dropped))
                {
                    CapabilityName.Write(kept, name.Name);
                }
            }

            if (kept.WrittenCount > 0)
            {
                SubsectionHeader.Write(output, header.Name, header.VersionId);
                ConfigCapabilities.Write(output, kept.WrittenSpan);
            }
        }

        return output.WrittenMemory;
    }
}
