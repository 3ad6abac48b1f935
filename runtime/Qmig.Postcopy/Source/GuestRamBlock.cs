namespace Qmig.Postcopy.Source;

/// <summary>
/// One RAM block of a guest as it goes into the MEM_SIZE block list.
/// </summary>
/// <param name="IdStr">The block's name on the wire (QEMU's RAMBlock idstr, e.g. <c>pc.ram</c>), 1..255 bytes of UTF-8.</param>
/// <param name="UsedLength">Bytes in use, a whole number of <paramref name="PageSize"/>.</param>
/// <param name="PageSize">The block's host page size in bytes: the target page size for ordinary memory, 2 MiB or 1 GiB for huge pages.</param>
public sealed record GuestRamBlock(string IdStr, long UsedLength, int PageSize);
