using System.Buffers.Binary;

namespace Qmig.TestSupport;

/// <summary>
/// A libvirt save image as libvirt's src/qemu/qemu_saveimage.h lays it out (a 92-byte header, the
/// domain XML, then the QEMU stream), written around a real stream for tests.
/// </summary>
public static class LibvirtSaveImageFile
{
    /// <summary>The header's size: magic, version, XML length, was-running, compression format, unused fields.</summary>
    public const int HeaderSize = 92;

    /// <summary>The domain XML written, padded with zeros as libvirt pads it so that it can be edited in place later.</summary>
    public static readonly byte[] Xml = [.. "<domain type='kvm'><name>guest</name></domain>\n"u8, .. new byte[1024]];

    /// <summary>Where the QEMU stream begins in an image written here.</summary>
    public static int StreamOffset => HeaderSize + Xml.Length;

    /// <summary>
    /// Writes the image to <paramref name="path"/> with the stream file <paramref name="stream"/> in it;
    /// <paramref name="format"/> is libvirt's compression format (0 raw, 3 xz, ...), <paramref name="partial"/>
    /// writes the magic libvirt uses while it is still writing the image.
    /// </summary>
    public static string Write(string path, string stream, uint format, bool bigEndian, bool partial = false)
    {
        var header = new byte[HeaderSize];
        (partial ? "LibvirtQemudPart"u8 : "LibvirtQemudSave"u8).CopyTo(header);
        uint[] fields = [2, (uint)Xml.Length, 1, format, 0];
        for (var i = 0; i < fields.Length; i++)
        {
            var at = header.AsSpan(16 + (4 * i));
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(at, fields[i]);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(at, fields[i]);
            }
        }

        File.WriteAllBytes(path, [.. header, .. Xml, .. File.ReadAllBytes(stream)]);
        return path;
    }
}
