using System.Buffers.Binary;

namespace Qmig.Wire.IO;

/// <summary>
/// A libvirt save image (<c>virsh save</c>, <c>managedsave</c>): a 92-byte header, the domain XML
/// with its padding and cookie (<c>data_len</c> bytes), then QEMU's migration stream, compressed when
/// <c>format</c> says so. The header, as libvirt's src/qemu/qemu_saveimage.h declares it: the magic
/// "LibvirtQemudSave" ("LibvirtQemudPart" while libvirt is still writing), then native-endian
/// uint32 version (2; 1 before compression), data_len, was_running, format (0 raw, 1 gzip, 2 bzip2,
/// 3 xz, 4 lzop), cookieOffset and 14 unused. A raw image is read as the stream it holds, from <see cref="StreamOffset"/>.
/// </summary>
/// <param name="StreamOffset">Where QEMU's stream begins in the file: after the header and <c>data_len</c> bytes of XML.</param>
/// <param name="Partial">The magic says libvirt had not finished writing the image.</param>
/// <param name="Format">How the QEMU stream is compressed: 0 raw (readable in place), else see <see cref="FormatName"/>.</param>
public readonly record struct LibvirtSaveImage(long StreamOffset, bool Partial, uint Format)
{
    /// <summary>The size of libvirt's fixed header in bytes; the domain XML follows it.</summary>
    public const int HeaderSize = 92;

    /// <summary>The QEMU stream is compressed, so it cannot be read in place.</summary>
    public bool IsCompressed => Format != 0;

    /// <summary>The compressor's name as its command is called (gzip, bzip2, xz, lzop), or "raw".</summary>
    public string FormatName => Format switch
    {
        0 => "raw",
        1 => "gzip",
        2 => "bzip2",
        3 => "xz",
        4 => "lzop",
        _ => $"format {Format}",
    };

    /// <summary>The header at the start of <paramref name="file"/>, or null when it is not a libvirt save image; leaves the position at 0.</summary>
    public static LibvirtSaveImage? TryRead(Stream file)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        file.Seek(0, SeekOrigin.Begin);
        var read = file.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false);
        file.Seek(0, SeekOrigin.Begin);
        if (read < HeaderSize)
        {
            return null;
        }

        var magic = header[..16];
        var partial = magic.SequenceEqual("LibvirtQemudPart"u8);
        if (!partial && !magic.SequenceEqual("LibvirtQemudSave"u8))
        {
            return null;
        }

        // Native-endian: whichever byte order reads a version libvirt wrote is the writer's.
        var bigEndian = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]) is not (1 or 2);
        if (Field(header, 0, bigEndian) is not (1 or 2))
        {
            return null;
        }

        return new LibvirtSaveImage(HeaderSize + (long)Field(header, 1, bigEndian), partial, Field(header, 3, bigEndian));
    }

    /// <summary>The header's uint32 number <paramref name="index"/> after the magic (0 is the version).</summary>
    private static uint Field(ReadOnlySpan<byte> header, int index, bool bigEndian) => bigEndian
        ? BinaryPrimitives.ReadUInt32BigEndian(header[(16 + (4 * index))..])
        : BinaryPrimitives.ReadUInt32LittleEndian(header[(16 + (4 * index))..]);
}
