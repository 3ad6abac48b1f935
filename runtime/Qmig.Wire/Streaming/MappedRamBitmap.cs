using System.Buffers.Binary;
using System.Numerics;

namespace Qmig.Wire.Streaming;

/// <summary>Helpers for a mapped-ram page bitmap as the reader hands it over (little-endian 64-bit words).</summary>
public static class MappedRamBitmap
{
    /// <summary>How many pages the bitmap marks present (the reader has already cleared bits past the block).</summary>
    public static long CountPresent(ReadOnlySpan<byte> bitmap)
    {
        long count = 0;
        for (var i = 0; i + 8 <= bitmap.Length; i += 8)
        {
            count += BitOperations.PopCount(BinaryPrimitives.ReadUInt64LittleEndian(bitmap.Slice(i)));
        }

        return count;
    }
}
