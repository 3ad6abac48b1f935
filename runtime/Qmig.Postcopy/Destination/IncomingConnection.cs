using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using Qmig.Wire;

namespace Qmig.Postcopy.Destination;

/// <summary>What a further connection to a destination's listening address turned out to be.</summary>
public enum IncomingConnectionKind
{
    /// <summary>A source resuming a paused postcopy: it opens with MIG_CMD_RECV_BITMAP.</summary>
    ResumedMainChannel,

    /// <summary>A postcopy-preempt channel: its first record is a page (or zero page) that names its block.</summary>
    PreemptChannel,

    /// <summary>Anything else: not from the migrating source, to be closed without touching the migration.</summary>
    Unexpected,

    /// <summary>Closed (or silent past the time limit) before saying anything.</summary>
    Closed,
}

/// <summary>
/// Tells the connections that reach a destination after the first one apart by their first bytes,
/// read without consuming them: a resumed main channel starts <c>08 00 0a</c> (QEMU_VM_COMMAND,
/// RECV_BITMAP); a preempt channel starts with a RAM record whose flags say PAGE or ZERO without
/// CONTINUE and whose block name follows, or, when it carried no page, with the bare EOS that ends it. Going by arrival order, as QEMU's destination does, would
/// let a stray connection take the place of the source's and fail the migration.
/// </summary>
public static class IncomingConnection
{
    private const int PreemptRecordPrefix = 8 + 1;

    /// <summary>
    /// How long the rest of a prefix may take once part of it is here. QEMU writes a record's first
    /// bytes in one go, so more than a moment means a peer that is not QEMU (or that closed after a
    /// few bytes, which a peek cannot tell from silence); it must not hold a thread for ever.
    /// </summary>
    private static readonly TimeSpan PartialPrefixLimit = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Waits until the connection has sent enough to tell what it is, at most <paramref name="limit"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: until it says something or closes; a preempt channel
    /// may stay silent until a page is requested).
    /// </summary>
    public static IncomingConnectionKind Classify(Socket connection, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Span<byte> start = stackalloc byte[PreemptRecordPrefix];
        var have = Peek(connection, start[..1], limit);
        if (have == 0)
        {
            return IncomingConnectionKind.Closed;
        }

        if (start[0] == (byte)VmSectionType.Command)
        {
            if (Peek(connection, start[..3], limit) < 3)
            {
                return IncomingConnectionKind.Unexpected;
            }

            return BinaryPrimitives.ReadUInt16BigEndian(start[1..]) == (ushort)MigCmd.RecvBitmap
                ? IncomingConnectionKind.ResumedMainChannel
                : IncomingConnectionKind.Unexpected;
        }

        if (Peek(connection, start[..8], limit) < 8)
        {
            return IncomingConnectionKind.Unexpected;
        }

        // A preempt channel that never carried a page holds only the EOS the source sends when
        // postcopy ends: eight bytes, after which nothing more comes until it closes.
        if (BinaryPrimitives.ReadUInt64BigEndian(start) == (ulong)RamSaveFlag.Eos)
        {
            return IncomingConnectionKind.PreemptChannel;
        }

        if (Peek(connection, start, limit) < PreemptRecordPrefix)
        {
            return IncomingConnectionKind.Unexpected;
        }

        var flags = (RamSaveFlag)(BinaryPrimitives.ReadUInt64BigEndian(start) & 0xfff);
        var namesItsBlock = (flags & RamSaveFlag.ContinueBlock) == 0 && start[8] != 0;
        return (flags & (RamSaveFlag.Page | RamSaveFlag.Zero)) != 0 && namesItsBlock
            ? IncomingConnectionKind.PreemptChannel
            : IncomingConnectionKind.Unexpected;
    }

    /// <summary>
    /// Peeks until <paramref name="into"/> is full, the peer closes, or the time is up; returns the
    /// bytes seen. Once part of it is here, the rest gets <see cref="PartialPrefixLimit"/>.
    /// </summary>
    private static int Peek(Socket connection, Span<byte> into, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var partialSince = TimeSpan.Zero;
        var seen = 0;
        while (true)
        {
            var remaining = limit == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : limit - clock.Elapsed;
            if ((remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero) || !connection.Poll(remaining, SelectMode.SelectRead))
            {
                return seen;
            }

            var have = connection.Receive(into, SocketFlags.Peek);
            if (have == 0 || have == into.Length)
            {
                return have;
            }

            if (have > seen)
            {
                seen = have;
                partialSince = clock.Elapsed;
            }
            else if (clock.Elapsed - partialSince > PartialPrefixLimit)
            {
                // A peek returns the same bytes whether the peer is silent or has closed: either way
                // it is not a source opening a channel.
                return seen;
            }

            // Part of it is here: the rest follows in the same write, so a short wait is enough.
            Thread.Sleep(1);
        }
    }
}
