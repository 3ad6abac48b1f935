using Qmig.Wire.Extraction;

namespace Qmig.Postcopy.Source;

/// <summary>
/// A saved migration stream as the guest a postcopy source migrates: any stream
/// <see cref="SavedStream"/> opens (QEMU 7.2 and 10.x precopy files, mapped-ram with or without
/// multifd, libvirt save images, a stream at an offset, <c>qmig receive</c>'s OUT.mig). Pages come
/// straight from the mapped file; the guest never changes, so it has no dirty-page source.
/// </summary>
public sealed class SavedStreamGuest : IMigrationGuest, IDisposable
{
    private SavedStreamGuest(SavedStream stream)
    {
        Stream = stream;
        RamBlocks = [.. stream.Blocks.Select(b => new GuestRamBlock(b.Name, (long)b.UsedLength, (int)(b.PageSize ?? (ulong)stream.TargetPageSize)))];
    }

    /// <summary>The indexed stream: where it begins, whether it is mapped-ram, how much memory its index takes.</summary>
    public SavedStream Stream { get; }

    public int TargetPageSize => Stream.TargetPageSize;

    /// <summary>
    /// The MEM_SIZE list of the stream. A block's page size is the target page size unless the list
    /// carried one (a stream saved with postcopy-ram on and huge pages): a precopy file does not say
    /// that a block was on huge pages.
    /// </summary>
    public IReadOnlyList<GuestRamBlock> RamBlocks { get; }

    public string? MachineType => Stream.MachineType;

    public ReadOnlyMemory<byte> ConfigurationRecord => Stream.ConfigurationRecord;

    public IReadOnlyList<ReadOnlyMemory<byte>> EarlySetupSections => Stream.EarlySetupSections;

    public IReadOnlyList<ReadOnlyMemory<byte>> DeviceSections => Stream.DeviceSections;

    public IDirtyPageSource? DirtyPages => null;

    /// <summary>Maps and indexes the stream at <paramref name="path"/>; see <see cref="SavedStream.Open"/> for what it throws.</summary>
    public static SavedStreamGuest Open(string path, SavedStreamOptions? options = null) => new(SavedStream.Open(path, options));

    public ReadOnlySpan<byte> ReadPage(int blockIndex, long targetPage, Span<byte> scratch) => Stream.ReadPage(blockIndex, targetPage, scratch);

    public void Dispose() => Stream.Dispose();
}
