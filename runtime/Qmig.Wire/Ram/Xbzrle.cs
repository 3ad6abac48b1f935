namespace Qmig.Wire;

/// <summary>
/// QEMU's XBZRLE page delta: alternating runs of unchanged bytes (skipped) and literal bytes
/// (copied), each run length a ULEB128 of at most two bytes. The rules are QEMU's decoder's, so a
/// delta this class accepts is one QEMU would apply, and it never writes outside the page.
/// </summary>
public static class Xbzrle
{
    /// <summary>Checks a delta without applying it.</summary>
    public static bool IsValid(ReadOnlySpan<byte> delta, int pageSize, out string? problem) =>
        Walk(delta, Span<byte>.Empty, pageSize, apply: false, out problem);

    /// <summary>Applies a delta in place on the previous content of the page.</summary>
    public static bool TryApply(ReadOnlySpan<byte> delta, Span<byte> page, out string? problem) =>
        Walk(delta, page, page.Length, apply: true, out problem);

    private static bool Walk(ReadOnlySpan<byte> delta, Span<byte> page, int pageSize, bool apply, out string? problem)
    {
        var i = 0;
        var d = 0;
        while (i < delta.Length)
        {
            if (delta.Length - i < 2)
            {
                problem = $"a zero run header at {i} needs 2 bytes";
                return false;
            }

            var used = DecodeSmall(delta.Slice(i), out var skip);
            if (used < 0 || (i > 0 && skip == 0))
            {
                problem = used < 0 ? $"bad run length at {i}" : $"an empty zero run at {i} (only the first may be empty)";
                return false;
            }

            i += used;
            d += skip;
            if (d > pageSize)
            {
                problem = $"the zero runs pass the page end ({d} > {pageSize})";
                return false;
            }

            if (delta.Length - i < 2)
            {
                problem = $"a literal run header at {i} needs 2 bytes";
                return false;
            }

            used = DecodeSmall(delta.Slice(i), out var count);
            if (used < 0 || count == 0)
            {
                problem = used < 0 ? $"bad run length at {i}" : $"an empty literal run at {i}";
                return false;
            }

            i += used;
            if (d + count > pageSize || i + count > delta.Length)
            {
                problem = d + count > pageSize
                    ? $"a literal run of {count} at page offset {d} passes the page end"
                    : $"a literal run of {count} at {i} passes the end of the delta";
                return false;
            }

            if (apply)
            {
                delta.Slice(i, count).CopyTo(page.Slice(d));
            }

            d += count;
            i += count;
        }

        problem = null;
        return true;
    }

    /// <summary>QEMU's uleb128_decode_small: one or two bytes, at most 14 bits.</summary>
    private static int DecodeSmall(ReadOnlySpan<byte> input, out int value)
    {
        if ((input[0] & 0x80) == 0)
        {
            value = input[0];
            return 1;
        }

        if ((input[1] & 0x80) != 0)
        {
            value = 0;
            return -1;
        }

        value = (input[0] & 0x7f) | (input[1] << 7);
        return 2;
    }

    /// <summary>zlib's compressBound: the most a compressed page may take (QEMU 7.2 checks COMPRESS_PAGE against it).</summary>
    public static long CompressBound(int pageSize) => pageSize + (pageSize >> 12) + (pageSize >> 14) + (pageSize >> 25) + 13;
}
