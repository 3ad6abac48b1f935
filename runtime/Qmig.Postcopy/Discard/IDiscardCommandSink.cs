namespace Qmig.Postcopy.Discard;

/// <summary>
/// Receives POSTCOPY_RAM_DISCARD commands as they are formed: one block name and 1..12 byte ranges
/// inside that block. The generated POSTCOPY_RAM_DISCARD writer plugs in here (it adds the version byte,
/// the counted name, the NUL and the big-endian u64 pairs); tests record the calls.
/// </summary>
internal interface IDiscardCommandSink
{
    /// <summary>
    /// Takes one command: the RAM block <paramref name="blockName"/> as the wire carries it, and
    /// <paramref name="ranges"/> to drop in it, each a byte offset and a byte length; the span is only
    /// valid during the call.
    /// </summary>
    void WriteDiscard(ReadOnlySpan<byte> blockName, ReadOnlySpan<(ulong StartBytes, ulong LengthBytes)> ranges);
}
