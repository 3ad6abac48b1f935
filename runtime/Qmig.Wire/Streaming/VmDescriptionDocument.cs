using System.Diagnostics.CodeAnalysis;
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
    /// <summary>How deeply the JSON may nest; QEMU's vmdesc nests a few levels per VMState struct.</summary>
    public const int MaxDepth = 256;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };

    private readonly Dictionary<(string Name, uint Instance), VmDescriptionDevice> _devices = new();

    private VmDescriptionDocument(byte[] json, JsonDocument document)
    {
        Json = json;
        Document = document;
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (root.TryGetProperty("page_size", out var pageSize) && pageSize.ValueKind == JsonValueKind.Number && pageSize.TryGetInt32(out var size))
        {
            PageSize = size;
        }

        if (root.TryGetProperty("devices", out var devices) && devices.ValueKind == JsonValueKind.Array)
        {
            foreach (var device in devices.EnumerateArray().Where(d => d.ValueKind == JsonValueKind.Object))
            {
                var name = StringProperty(device, "name") ?? "";
                var instance = device.TryGetProperty("instance_id", out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetUInt32(out var id) ? id : 0u;
                var entry = new VmDescriptionDevice(name, instance, device, BodySize(device));
                _devices.TryAdd((name, instance), entry);
                Devices.Add(entry);
            }
        }
    }

    /// <summary>The JSON exactly as found in the stream.</summary>
    public byte[] Json { get; }

    /// <summary>The parsed JSON, for reading keys this type does not expose.</summary>
    public JsonDocument Document { get; }

    /// <summary>The <c>page_size</c> the vmdesc states, which must match the stream's target page size; null when absent.</summary>
    public int? PageSize { get; }

    /// <summary>Every device the vmdesc describes, in its order, each with the fields its section body holds.</summary>
    public List<VmDescriptionDevice> Devices { get; } = [];

    /// <summary>
    /// Whether <paramref name="json"/> can be decoded as a vmdesc: valid UTF-8 (Python decodes the
    /// whole record before parsing it), JSON, nested at most <see cref="MaxDepth"/> deep, strings
    /// whose escapes make text. This is the one place that decides; everything that reads a vmdesc
    /// (the stream reader at the VMDESCRIPTION record, <see cref="TryParse"/>) asks it.
    /// </summary>
    /// <param name="json">The JSON bytes.</param>
    /// <param name="jsonOffset">Where the JSON starts in its file, so the error names the bad byte's absolute offset.</param>
    /// <returns>Null when it decodes; else the error at the first byte that does not (rule QMIG1108).</returns>
    public static MigrationError? Validate(ReadOnlySpan<byte> json, long jsonOffset)
    {
        if (FirstInvalidUtf8(json) is int invalid)
        {
            return Undecodable(jsonOffset + invalid, $"byte 0x{json[invalid]:x2} at offset {invalid} of the JSON is not valid UTF-8");
        }

        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped && !EscapesMakeText(ref reader))
                {
                    return Undecodable(jsonOffset + reader.TokenStartIndex, $"the string at offset {reader.TokenStartIndex} of the JSON escapes a lone UTF-16 surrogate");
                }
            }
        }
        catch (JsonException ex)
        {
            var at = ByteIndex(json, ex.LineNumber ?? 0, ex.BytePositionInLine ?? 0);
            return Undecodable(jsonOffset + at, $"{Sentence(ex.Message)} (offset {at} of the JSON)");
        }

        return null;
    }

    /// <summary>
    /// Decodes a vmdesc; <paramref name="error"/> names the first byte that cannot be decoded
    /// (see <see cref="Validate"/>), counted from <paramref name="jsonOffset"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> json, long jsonOffset,
        [NotNullWhen(true)] out VmDescriptionDocument? document, [NotNullWhen(false)] out MigrationError? error)
    {
        error = Validate(json, jsonOffset);
        if (error is not null)
        {
            document = null;
            return false;
        }

        var copy = json.ToArray();
        document = new VmDescriptionDocument(copy, JsonDocument.Parse(copy, new JsonDocumentOptions { MaxDepth = MaxDepth }));
        return true;
    }

    /// <summary>Decodes a vmdesc that is known to be good; throws <see cref="MigrationFormatException"/> otherwise.</summary>
    public static VmDescriptionDocument Parse(ReadOnlySpan<byte> json) =>
        TryParse(json, 0, out var document, out var error) ? document : throw new MigrationFormatException(error);

    private static MigrationError Undecodable(long offset, string message) =>
        new(offset, "vm_description", MigrationRules.VmDescriptionUndecodable, $"the vmdesc cannot be decoded: {message}");

    private static int? FirstInvalidUtf8(ReadOnlySpan<byte> json)
    {
        var at = 0;
        while (at < json.Length)
        {
            var ascii = json.Slice(at).IndexOfAnyExceptInRange((byte)0, (byte)0x7f);
            if (ascii < 0)
            {
                return null;
            }

            at += ascii;
            if (System.Text.Rune.DecodeFromUtf8(json.Slice(at), out _, out var length) != System.Buffers.OperationStatus.Done)
            {
                return at;
            }

            at += length;
        }

        return null;
    }

    private static bool EscapesMakeText(ref Utf8JsonReader reader)
    {
        try
        {
            reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>System.Text.Json counts lines by '\n' and positions in bytes within the line.</summary>
    private static long ByteIndex(ReadOnlySpan<byte> json, long line, long positionInLine)
    {
        var start = 0;
        for (var i = 0L; i < line; i++)
        {
            var newline = json.Slice(start).IndexOf((byte)'\n');
            if (newline < 0)
            {
                break;
            }

            start += newline + 1;
        }

        return Math.Min(start + positionInLine, Math.Max(0, json.Length - 1));
    }

    /// <summary>System.Text.Json's message without its own line/position suffix, which counts lines rather than file bytes.</summary>
    private static string Sentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut < 0 ? message : message[..cut]).TrimEnd();
    }

    private static string? StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Integer(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    /// <summary>The description of the device whose section has idstr <paramref name="name"/> and <paramref name="instance"/>, to decode its body; false when the vmdesc has none.</summary>
    public bool TryGetDevice(string name, uint instance, out VmDescriptionDevice device) =>
        _devices.TryGetValue((name, instance), out device!);

    /// <summary>
    /// Bytes a device body occupies: each field's <c>size</c> is per element and includes everything
    /// nested; subsections add their own header (0x05, name length, name, version). Null when the
    /// vmdesc gives a negative size or one too large to add up.
    /// </summary>
    private static long? BodySize(JsonElement device)
    {
        if (Integer(device, "size") is long legacySize)
        {
            return legacySize >= 0 ? legacySize : null;
        }

        try
        {
            var fields = FieldsSize(device);
            var subsections = SubsectionsSize(device);
            return fields >= 0 && subsections >= 0 ? checked(fields + subsections) : null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static long FieldsSize(JsonElement vmsd)
    {
        long total = 0;
        if (!vmsd.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        foreach (var field in fields.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.Object))
        {
            var size = Integer(field, "size") ?? 0;
            var count = Integer(field, "array_len") ?? 1;
            if (size < 0 || count < 0)
            {
                return -1;
            }

            total = checked(total + (size * count));
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

        foreach (var sub in subsections.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Object))
        {
            var name = StringProperty(sub, "vmsd_name") ?? "";
            var fields = FieldsSize(sub);
            var nested = SubsectionsSize(sub);
            if (fields < 0 || nested < 0)
            {
                return -1;
            }

            total = checked(total + 1 + 1 + Encoding.UTF8.GetByteCount(name) + 4 + fields + nested);
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

    /// <summary>
    /// Reads the vmdesc of a complete stream file, or null if it has none; throws
    /// <see cref="MigrationFormatException"/> (with the bad byte's file offset) if it cannot be decoded.
    /// </summary>
    public static VmDescriptionDocument? ReadFromFile(string path, int maxSize = 64 << 20)
    {
        using var file = File.OpenRead(path);
        var document = ReadTrailing(file, out var undecodable, maxSize);
        return undecodable is null ? document : throw new MigrationFormatException(undecodable);
    }

    /// <summary>
    /// Reads the vmdesc at the end of the complete stream file <paramref name="file"/>: null when it
    /// has none (<see cref="LocateInFile"/>); when it is there but cannot be decoded, null with
    /// <paramref name="undecodable"/> naming the bad byte's file offset and the rule, so that a
    /// caller can still read the records before it. The file's position is left where it was.
    /// </summary>
    public static VmDescriptionDocument? ReadTrailing(Stream file, out MigrationError? undecodable, int maxSize = 64 << 20)
    {
        ArgumentNullException.ThrowIfNull(file);
        undecodable = null;
        var position = file.Position;
        try
        {
            if (LocateInFile(file, maxSize) is not long at)
            {
                return null;
            }

            var json = new byte[file.Length - (at + 6)];
            file.Seek(at + 6, SeekOrigin.Begin);
            file.ReadExactly(json);
            return TryParse(json, at + 6, out var document, out var error) ? document : Undecodable(error, out undecodable);
        }
        finally
        {
            file.Seek(position, SeekOrigin.Begin);
        }
    }

    private static VmDescriptionDocument? Undecodable(MigrationError error, out MigrationError? undecodable)
    {
        undecodable = error;
        return null;
    }
}

/// <summary>One FULL device as the vmdesc describes it; <see cref="BodySize"/> is null when it cannot be computed.</summary>
public sealed record VmDescriptionDevice(string Name, uint InstanceId, JsonElement Description, long? BodySize);
