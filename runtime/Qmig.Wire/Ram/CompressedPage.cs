using System.IO.Compression;

namespace Qmig.Wire;

/// <summary>
/// QEMU 7.2's COMPRESS_PAGE payload: one page deflated on its own as a complete zlib stream
/// (multi-thread compression; the capability was removed in 9.1). Each page inflates without any
/// earlier page, so a reader can decode one whenever it needs it.
/// </summary>
internal static class CompressedPage
{
    /// <summary>
    /// Inflates <paramref name="zlib"/> into <paramref name="page"/>; false, with the reason, unless it
    /// is one zlib stream that fills the page exactly. Never writes outside <paramref name="page"/>.
    /// </summary>
    public static unsafe bool TryInflate(ReadOnlySpan<byte> zlib, Span<byte> page, out string? problem)
    {
        if (zlib.IsEmpty)
        {
            // Pinned, an empty span is a null pointer, which a memory stream refuses with an exception.
            problem = "is empty, not a zlib stream";
            return false;
        }

        fixed (byte* input = zlib)
        {
            // Read in place: the compressed bytes often live in a mapped file.
            using var source = new UnmanagedMemoryStream(input, zlib.Length);
            using var inflater = new ZLibStream(source, CompressionMode.Decompress);
            try
            {
                var filled = 0;
                int read;
                while (filled < page.Length && (read = inflater.Read(page.Slice(filled))) > 0)
                {
                    filled += read;
                }

                if (filled != page.Length)
                {
                    problem = $"inflates to {filled} bytes, not a {page.Length}-byte page";
                    return false;
                }

                if (inflater.ReadByte() >= 0)
                {
                    problem = $"inflates to more than a {page.Length}-byte page";
                    return false;
                }
            }
            // zlib's other refusals (a preset dictionary asked for: Z_NEED_DICT) come as an internal
            // IOException subclass; the input is memory, so no IOException here is about reading it.
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                problem = $"is not a valid zlib stream ({ex.Message})";
                return false;
            }
        }

        problem = null;
        return true;
    }
}
