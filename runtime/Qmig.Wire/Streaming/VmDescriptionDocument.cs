using System.Text;
using System.Text.Json;

namespace Qmig.Wire.Streaming;

/// <summary>
/// The vmdesc JSON QEMU appends after QEMU_VM_EOF: the page size and, per FULL device section, the
/// fields that were written. It is what makes device bodies decodable and gives each body's exact
/// length (the wire does not carry it).
/// </summary>
public sealed class VmDescriptionDocument
{
    private readonly Dictionary<(string Name, uint Instance), VmDescriptionDevice> _devices = new();

    private VmDescriptionDocument(byte[] json, JsonDocument document)
    {
        Json = json;
        Document = document;
        var root = document.RootElement;
        if (root.TryGetProperty("page_size", out var pageSize) && pageSize.TryGetInt32(out var size))
        {
            PageSize = size;
        }

        if (root.TryGetProperty("devices", out var devices) && devices.ValueKind == JsonValueKind.Array)
        {
            foreach (var device in devices.EnumerateArray())
            {
                var name = device.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
                var instance = device.TryGetProperty("instance_id", out var i) && i.TryGetUInt32(out var id) ? id : 0u;
                var entry = new VmDescriptionDevice(name, instance, device, BodySize(device));
                _devices.TryAdd((name, instance), entry);
                Devices.Add(entry);
            }
        }
    }

    /// <summary>The JSON exactly as found in the stream.</summary>
    public byte[] Json { get; }

    public JsonDocument Document { get; }

    public int? PageSize { get; }

    public List<VmDescriptionDevice> Devices { get; } = [];

    public static VmDescriptionDocument Parse(ReadOnlySpan<byte> json)
    {
        var copy = json.ToArray();
        return new VmDescriptionDocument(copy, JsonDocument.Parse(copy, new JsonDocumentOptions { MaxDepth = 256 }));
    }

    public bool TryGetDevice(string name, uint instance, out VmDescriptionDevice device) =>
        _devices.TryGetValue((name, instance), out device!);

    /// <summary>
    /// Bytes a device body occupies: each field's <c>size</c> is per element and includes everything
    /// nested; subsections add their own header (0x05, name length, name, version).
    /// </summary>
    private static long? BodySize(JsonElement device)
    {
        if (device.TryGetProperty("size", out var legacy) && legacy.TryGetInt64(out var legacySize))
        {
            return legacySize;
        }

        return FieldsSize(device) + SubsectionsSize(device);
    }

    private static long FieldsSize(JsonElement vmsd)
    {
        long total = 0;
        if (!vmsd.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        foreach (var field in fields.EnumerateArray())
        {
            var size = field.TryGetProperty("size", out var s) && s.TryGetInt64(out var v) ? v : 0;
            var count = field.TryGetProperty("array_len", out var a) && a.TryGetInt64(out var n) ? n : 1;
            total += size * count;
        }

        return total;
    }

    private static long SubsectionsSize(JsonElement vmsd)
    {
        long total = 0;
        if (!vmsd.TryGetProperty("subsections", out var subsections) || subsections.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        foreach (var sub in subsections.EnumerateArray())
        {
            var name = sub.TryGetProperty("vmsd_name", out var n) ? n.GetString() ?? "" : "";
            total += 1 + 1 + Encoding.UTF8.GetByteCount(name) + 4 + FieldsSize(sub) + SubsectionsSize(sub);
        }

        return total;
    }

    /// <summary>
    /// Finds the vmdesc at the end of a complete stream exactly (§10.5 of the format notes): an offset
    /// p with EOF (0x00), VMDESCRIPTION (0x06), a length that reaches the end of the file, and '{'.
    /// Unlike analyze-migration.py it does not guess from the last NUL byte.
    /// </summary>
    public static long? LocateInFile(Stream file, int maxSize)
    {
        // The vmdesc is the last record and usually well under 1 MiB: look at the file's tail in
        // windows growing from the end instead of reading (and scanning) maxSize bytes every time.
        var length = file.Length;
        var limit = (int)Math.Min(length, (long)maxSize + 6);
        if (limit < 7)
        {
            return null;
        }

        for (var window = Math.Min(limit, 1 << 16); ; window = (int)Math.Min(limit, window * 8L))
        {
            var tail = new byte[window];
            file.Seek(length - window, SeekOrigin.Begin);
            file.ReadExactly(tail);

            // Nearest the end first: the JSON after any earlier candidate would contain this NUL.
            var end = window - 6;
            while (end > 0)
            {
                var p = tail.AsSpan(0, end + 1).LastIndexOf((ReadOnlySpan<byte>)[0x00, 0x06]);
                if (p < 0)
                {
                    break;
                }

                if (p + 6 < window && tail[p + 6] == (byte)'{'
                    && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(tail.AsSpan(p + 2)) == window - (p + 6))
                {
                    return length - window + p;
                }

                end = p;
            }

            if (window == limit)
            {
                return null;
            }
        }
    }

    /// <summary>Reads the vmdesc of a complete stream file, or null if it has none.</summary>
    public static VmDescriptionDocument? ReadFromFile(string path, int maxSize = 64 << 20)
    {
        using var file = File.OpenRead(path);
        var at = LocateInFile(file, maxSize);
        if (at is null)
        {
            return null;
        }

        var json = new byte[file.Length - (at.Value + 6)];
        file.Seek(at.Value + 6, SeekOrigin.Begin);
        file.ReadExactly(json);
        return Parse(json);
    }
}

/// <summary>One FULL device as the vmdesc describes it; <see cref="BodySize"/> is null when it cannot be computed.</summary>
public sealed record VmDescriptionDevice(string Name, uint InstanceId, JsonElement Description, long? BodySize);
