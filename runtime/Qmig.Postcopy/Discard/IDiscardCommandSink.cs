namespace Qmig.Postcopy.Discard;

/// <summary>
/// Receives POSTCOPY_RAM_DISCARD commands as they are formed: one block name and 1..12 byte ranges
/// inside that block. The generated POSTCOPY_RAM_DISCARD writer plugs in here (it adds the version byte,
/// the counted name, the NUL and the big-endian u64 pairs); tests record the calls.
/// </summary>
public interface IDiscardCommandSink
{
    void WriteDiscard(ReadOnlySpan<byte> blockName, ReadOnlySpan<(ulong StartBytes, ulong LengthBytes)> ranges);
}
