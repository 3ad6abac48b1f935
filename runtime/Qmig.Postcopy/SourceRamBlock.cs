using System.Text;
using Qmig.Postcopy.Bitmaps;

namespace Qmig.Postcopy;

/// <summary>
/// The source's view of one RAM block for postcopy: its name as it goes on the wire, its size in target
/// pages, how many target pages make one of its host pages, and its dirty bitmap and sent map.
/// </summary>
internal sealed class SourceRamBlock
{
    /// <summary>The wire carries the name behind a u8 length.</summary>
    public const int MaxNameLength = 255;

    private readonly byte[] _name;

    /// <summary>A block named <paramref name="name"/> (encoded as UTF-8 for the wire); see the other constructor for the rules.</summary>
    public SourceRamBlock(string name, long pageCount, int hostPageTargetPages = 1)
        : this(Encoding.UTF8.GetBytes(name), pageCount, hostPageTargetPages)
    {
    }

    /// <summary>
    /// A block of <paramref name="pageCount"/> target pages, every one dirty and none sent. The name is 1 to
    /// <see cref="MaxNameLength"/> bytes without NUL, and the block a whole number of host pages of
    /// <paramref name="hostPageTargetPages"/> target pages, since a discard drops whole host pages.
    /// </summary>
    public SourceRamBlock(ReadOnlySpan<byte> name, long pageCount, int hostPageTargetPages = 1)
    {
        if (name.IsEmpty || name.Length > MaxNameLength || name.Contains((byte)0))
        {
            throw new ArgumentException($"a RAM block name is 1..{MaxNameLength} bytes with no NUL", nameof(name));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(hostPageTargetPages, 1);
        if (pageCount % hostPageTargetPages != 0)
        {
            // QEMU refuses postcopy for such blocks too: a discard must cover whole host pages.
            throw new ArgumentException($"{pageCount} target pages is not a whole number of host pages of {hostPageTargetPages}", nameof(pageCount));
        }

        _name = name.ToArray();
        PageCount = pageCount;
        HostPageTargetPages = hostPageTargetPages;
        Dirty = new DirtyBitmap(pageCount);
        Sent = new SentMap(pageCount);
    }

    /// <summary>The name's bytes exactly as page records, page requests and discard commands carry them.</summary>
    public ReadOnlySpan<byte> Name => _name;

    /// <summary>The name as text, for messages.</summary>
    public string NameText => Encoding.UTF8.GetString(_name);

    /// <summary>The block's size in target pages: the length of both maps.</summary>
    public long PageCount { get; }

    /// <summary>Target pages per host page: 1 for ordinary memory, 512 for 2 MiB huge pages with 4 KiB target pages.</summary>
    public int HostPageTargetPages { get; }

    /// <summary>The pages still to send: all at first, set again as the guest writes, cleared as each page goes out.</summary>
    public DirtyBitmap Dirty { get; }

    /// <summary>The pages sent at least once, whose stale copies the switch to postcopy must discard when they are dirty again.</summary>
    public SentMap Sent { get; }
}
