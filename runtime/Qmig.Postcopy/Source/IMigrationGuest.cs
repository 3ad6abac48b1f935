namespace Qmig.Postcopy.Source;

/// <summary>
/// The guest a postcopy source migrates, as a VMM (or a saved migration stream) exposes it: its RAM blocks
/// and their current page contents, the configuration record, and the device state that goes into the
/// PACKAGED blob. The source engine only reads through this interface, so it never needs to know whether
/// the pages live in a running VMM's memory or in a mapped file.
/// </summary>
public interface IMigrationGuest
{
    /// <summary>The stream's target page size (QEMU's TARGET_PAGE_SIZE, 4096 on x86).</summary>
    int TargetPageSize { get; }

    /// <summary>The RAM blocks in the order they go into the MEM_SIZE block list.</summary>
    IReadOnlyList<GuestRamBlock> RamBlocks { get; }

    /// <summary>The machine type the destination must be started with (from the configuration record), or null when unknown.</summary>
    string? MachineType { get; }

    /// <summary>
    /// The QEMU_VM_CONFIGURATION record exactly as it goes on the wire after the file header (its 0x07 type
    /// byte included), or empty when the source sends none.
    /// </summary>
    ReadOnlyMemory<byte> ConfigurationRecord { get; }

    /// <summary>
    /// Complete sections (header, body and footer when the stream uses footers) that a QEMU 8.0+ destination
    /// loads before RAM (early_setup devices such as virtio-mem); empty for most guests.
    /// </summary>
    IReadOnlyList<ReadOnlyMemory<byte>> EarlySetupSections { get; }

    /// <summary>
    /// The non-iterable device sections, each complete (QEMU_VM_SECTION_FULL header, body, footer when the
    /// stream uses footers), in the order they go into the PACKAGED blob between LISTEN and RUN.
    /// </summary>
    IReadOnlyList<ReadOnlyMemory<byte>> DeviceSections { get; }

    /// <summary>
    /// The current bytes of one target page. Returns an empty span when the page is all zero (it then goes
    /// as a ZERO record); otherwise exactly <see cref="TargetPageSize"/> bytes, either the guest's own memory
    /// (a mapped file, a VMM's RAM: no copy) or <paramref name="scratch"/> filled by the guest (a page it had
    /// to decode). <paramref name="scratch"/> is at least <see cref="TargetPageSize"/> bytes and belongs to
    /// the caller, so two threads may read pages at once with scratches of their own.
    /// </summary>
    ReadOnlySpan<byte> ReadPage(int blockIndex, long targetPage, Span<byte> scratch);

    /// <summary>
    /// The current bytes of <c>destination.Length / TargetPageSize</c> consecutive target pages from
    /// <paramref name="firstTargetPage"/> on, page i into <c>destination[(i * TargetPageSize)..]</c>;
    /// <paramref name="zero"/>[i] is set for a page that is all zero (it goes as a ZERO record, and its bytes
    /// in <paramref name="destination"/> do not matter) and cleared for every other. The background stream
    /// reads runs of pages through this, so a guest that can read a run at once (a file, with one preadv)
    /// saves a call per page. The default reads page by page with <see cref="ReadPage"/>.
    /// </summary>
    void ReadPages(int blockIndex, long firstTargetPage, Span<byte> destination, Span<bool> zero)
    {
        var pageBytes = TargetPageSize;
        for (var i = 0; i < destination.Length / pageBytes; i++)
        {
            var into = destination.Slice(i * pageBytes, pageBytes);
            var page = ReadPage(blockIndex, firstTargetPage + i, into);
            zero[i] = page.IsEmpty;
            if (!page.IsEmpty && !page.Overlaps(into))
            {
                page.CopyTo(into);
            }
        }
    }

    /// <summary>
    /// Whether a page <see cref="ReadPage"/> returns from the guest's own memory (not the scratch) stays
    /// mapped at that address for the rest of the migration: memory outside the managed heap that is already
    /// mapped, such as a running VMM's guest RAM. The source then sends such pages on a plain socket straight
    /// from there, gathered with their record headers in one system call, and reads them one by one with
    /// <see cref="ReadPage"/>. Otherwise it reads runs with <see cref="ReadPages"/> into memory of its own and
    /// sends them from there. False unless the guest says so; a guest whose pages live in managed arrays
    /// (which the garbage collector may move) must leave it false, and a file is better read by
    /// <see cref="ReadPages"/> than mapped page by page.
    /// </summary>
    bool PagesStayInPlace => false;

    /// <summary>For a guest that runs while it is migrated, where its writes are tracked; null for one that never changes (a saved stream).</summary>
    IDirtyPageSource? DirtyPages { get; }
}
