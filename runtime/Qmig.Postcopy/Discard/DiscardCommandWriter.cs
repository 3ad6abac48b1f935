using System.Buffers;
using System.Buffers.Binary;
using Qmig.Wire;

namespace Qmig.Postcopy.Discard;

/// <summary>
/// Puts discard commands on the wire: each becomes a QEMU_VM_COMMAND POSTCOPY_RAM_DISCARD record
/// written by the generated writers (version byte, counted name, NUL, big-endian ranges; the
/// lengths are derived by the writers).
/// </summary>
internal sealed class DiscardCommandWriter(IBufferWriter<byte> output) : IDiscardCommandSink
{
    // 12 ranges of 16 bytes, plus the header, fit easily; QEMU's maximum command is 450 bytes.
    private readonly byte[] _payload = new byte[3 + 255 + (PostcopyDiscard.MaxDiscardsPerCommand * 16)];
    private readonly byte[] _ranges = new byte[PostcopyDiscard.MaxDiscardsPerCommand * 16];

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The name or the number of ranges does not fit a POSTCOPY_RAM_DISCARD command.</exception>
    public void WriteDiscard(ReadOnlySpan<byte> blockName, ReadOnlySpan<(ulong StartBytes, ulong LengthBytes)> ranges)
    {
        var encoded = _ranges.AsSpan(0, ranges.Length * 16);
        for (var i = 0; i < ranges.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(encoded.Slice(i * 16), ranges[i].StartBytes);
            BinaryPrimitives.WriteUInt64BigEndian(encoded.Slice((i * 16) + 8), ranges[i].LengthBytes);
        }

        var status = PostcopyRamDiscard.TryWrite(_payload, 0, blockName, encoded, out var length);
        if (status != OperationStatus.Done)
        {
            throw new ArgumentException($"a discard for '{System.Text.Encoding.ASCII.GetString(blockName)}' with {ranges.Length} ranges cannot be encoded ({status})");
        }

        Command.Write(output, MigCmd.PostcopyRamDiscard, _payload.AsSpan(0, length));
    }
}
