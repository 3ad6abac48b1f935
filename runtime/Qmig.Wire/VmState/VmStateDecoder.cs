using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Qmig.Wire.PythonJson;

namespace Qmig.Wire.VmState;

/// <summary>
/// Decodes a vmstate device body with its vmdesc entry into the tree analyze-migration.py prints
/// for it (QEMU 7.2's or 10.0's, see <see cref="AnalyzerShape"/>): fields in order, array_len
/// arrays unfolded into lists, array elements gathered into the list of their name, structs as
/// objects, each subsection after the fields as an object under the name read from the wire.
/// Unlike the script it reads only inside the body and never throws: the first byte that does not
/// fit the description stops decoding with its offset and field path, and the tree so far is kept.
/// </summary>
public static class VmStateDecoder
{
    private const byte SubsectionMarker = 0x05;
    private static readonly PyString NullPointer = new("nullptr");

    private static ReadOnlySpan<byte> NullPointerMarker => "0"u8;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <param name="body">The device body, without its section header and footer.</param>
    /// <param name="device">The vmdesc device object (name, instance_id, fields, subsections).</param>
    /// <param name="name">The first segment of error paths, usually the section idstr.</param>
    /// <param name="limits">Bounds on the work a hostile vmdesc can ask for.</param>
    /// <param name="shape">Whose script's tree to build; <see cref="AnalyzerShapes.For"/> chooses it for a vmdesc.</param>
    public static VmStateResult Decode(ReadOnlySpan<byte> body, JsonElement device, string name, VmStateLimits? limits = null,
        AnalyzerShape shape = AnalyzerShape.Qemu72)
    {
        limits ??= VmStateLimits.Default;
        var walker = new Walker(body, name, (long)body.Length + limits.ExtraValues, limits.MaxDepth, shape);
        var state = new PyObject();
        if (walker.DecodeVmsd(device, state, 0) && walker.Offset < body.Length)
        {
            walker.Fail($"{body.Length - walker.Offset} bytes follow the last field and subsection the vmdesc describes");
        }

        return new VmStateResult(state, walker.Offset, walker.Error);
    }

    private ref struct Walker(ReadOnlySpan<byte> body, string root, long maxValues, int maxDepth, AnalyzerShape shape)
    {
        private readonly ReadOnlySpan<byte> _body = body;
        private readonly List<string> _path = [root];
        private long _values;

        public int Offset { get; private set; }

        public VmStateError? Error { get; private set; }

        private readonly int Remaining => _body.Length - Offset;

        public bool Fail(string message)
        {
            Error ??= new VmStateError(Offset, string.Concat(_path), message);
            return false;
        }

        /// <summary>A vmsd object (the device itself, a struct, a subsection): its fields, then its subsections.</summary>
        public bool DecodeVmsd(JsonElement vmsd, PyObject into, int depth)
        {
            if (depth > maxDepth)
            {
                return Fail($"structs nest deeper than {maxDepth}");
            }

            if (vmsd.ValueKind != JsonValueKind.Object)
            {
                return Fail($"the vmdesc gives a {Kind(vmsd)} where a vmsd object belongs");
            }

            if (!vmsd.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array)
            {
                return Fail("the vmdesc entry has no \"fields\" list");
            }

            foreach (var field in fields.EnumerateArray())
            {
                if (!DecodeFieldEntry(field, into, depth))
                {
                    return false;
                }
            }

            if (!vmsd.TryGetProperty("subsections", out var subsections))
            {
                return true;
            }

            if (subsections.ValueKind != JsonValueKind.Array)
            {
                return Fail("the vmdesc \"subsections\" is not a list");
            }

            foreach (var subsection in subsections.EnumerateArray())
            {
                if (!DecodeSubsection(subsection, into, depth))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// One field object. array_len n reads n elements (at least one, as the script's unfolding
        /// always keeps element 0), each with its index; index k is element k of that name.
        /// </summary>
        private bool DecodeFieldEntry(JsonElement field, PyObject into, int depth)
        {
            if (field.ValueKind != JsonValueKind.Object)
            {
                return Fail($"the vmdesc gives a {Kind(field)} where a field object belongs");
            }

            if (!field.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            {
                return Fail("a field in the vmdesc has no name");
            }

            var name = nameElement.GetString()!;
            if (field.TryGetProperty("array_len", out var arrayLen))
            {
                if (!TryInteger(arrayLen, out var count))
                {
                    _path.Add("." + name);
                    var failed = Fail($"array_len is not an integer ({Kind(arrayLen)})");
                    _path.RemoveAt(_path.Count - 1);
                    return failed;
                }

                for (long i = 0; i < Math.Max(count, 1); i++)
                {
                    if (!DecodeElement(field, name, i, into, depth))
                    {
                        return false;
                    }
                }

                return true;
            }

            if (field.TryGetProperty("index", out var indexElement))
            {
                if (!TryInteger(indexElement, out var index))
                {
                    _path.Add("." + name);
                    var failed = Fail($"index is not an integer ({Kind(indexElement)})");
                    _path.RemoveAt(_path.Count - 1);
                    return failed;
                }

                return DecodeElement(field, name, index, into, depth);
            }

            return DecodeElement(field, name, null, into, depth);
        }

        private bool DecodeElement(JsonElement field, string name, long? index, PyObject into, int depth)
        {
            if (index is null && shape == AnalyzerShape.Qemu10 && into.TryGetValue(name, out var earlier))
            {
                // QEMU 10.0 writes no index for an array's last element: name it by its position.
                index = earlier is PyList gathered ? gathered.Items.Count : 1;
            }

            _path.Add(index is long i ? $".{name}[{i}]" : "." + name);
            if (++_values > maxValues)
            {
                return Fail($"the vmdesc unfolds into more than {maxValues} values for a {_body.Length}-byte body");
            }

            var ok = DecodeValue(field, depth, out var value);
            if (value is not null)
            {
                if (shape == AnalyzerShape.Qemu10)
                {
                    GatherByName(into, name, value);
                }
                else
                {
                    ok = GatherByIndex(into, name, index, value) && ok;
                }
            }

            if (ok)
            {
                _path.RemoveAt(_path.Count - 1);
            }

            return ok;
        }

        /// <summary>
        /// QEMU 7.2's rule: an entry with an index joins the list of its name, any other replaces
        /// the value of its name.
        /// </summary>
        private bool GatherByIndex(PyObject into, string name, long? index, PyValue value)
        {
            if (index is null)
            {
                into[name] = value;
            }
            else if (!into.TryGetValue(name, out var existing))
            {
                var list = new PyList();
                list.Items.Add(value);
                into[name] = list;
            }
            else if (existing is PyList list)
            {
                // The script insists that entry k lands at position k of its list; QEMU 7.2
                // always lists them in order, and 10.x splits arrays of pointers into runs
                // of the same name, which belong together, so a run simply continues the list.
                list.Items.Add(value);
            }
            else
            {
                return Fail("an indexed field has the name of an earlier plain field");
            }

            return true;
        }

        /// <summary>
        /// QEMU 10.0's rule: the first entry with a name is its value, the second makes a list of
        /// both, later ones join it. Decoded values are never lists, so a list here is one this
        /// rule made.
        /// </summary>
        private static void GatherByName(PyObject into, string name, PyValue value)
        {
            if (!into.TryGetValue(name, out var existing))
            {
                into[name] = value;
            }
            else if (existing is PyList list)
            {
                list.Items.Add(value);
            }
            else
            {
                var pair = new PyList();
                pair.Items.Add(existing);
                pair.Items.Add(value);
                into[name] = pair;
            }
        }

        private bool DecodeValue(JsonElement field, int depth, out PyValue? value)
        {
            value = null;
            var kind = VmStateFieldKinds.Of(field, shape);
            if (kind == VmStateFieldKind.Capability)
            {
                return DecodeCapability(out value);
            }

            if (kind == VmStateFieldKind.Struct)
            {
                if (!field.TryGetProperty("struct", out var vmsd))
                {
                    return Fail("a struct field has no \"struct\" description");
                }

                var child = new PyObject();
                value = child;
                return DecodeVmsd(vmsd, child, depth + 1);
            }

            if (!field.TryGetProperty("size", out var sizeElement) || !TryInteger(sizeElement, out var size))
            {
                return Fail("the field has no integer size");
            }

            if (size < 0 || (size == 0 && kind != VmStateFieldKind.Raw))
            {
                return Fail($"a {TypeName(field)} field cannot have size {size}");
            }

            if (size > Remaining)
            {
                var inner = InnerPath(field, Remaining, 0);
                if (inner.Length > 0)
                {
                    _path.Add(inner);
                }

                return Fail($"the body ends {size - Remaining} bytes into this {size}-byte {TypeName(field)} field");
            }

            var bytes = _body.Slice(Offset, (int)size);
            Offset += (int)size;
            value = kind switch
            {
                VmStateFieldKind.Bool => PyBool.Of(bytes[0] != 0),
                VmStateFieldKind.Signed => new PyString(VmStateFormat.Integer(bytes, signed: true)),
                VmStateFieldKind.Unsigned => new PyString(VmStateFormat.Integer(bytes, signed: false)),
                VmStateFieldKind.Nullptr => NullPointer,
                _ => new PyString(VmStateFormat.HexBytes(bytes)),
            };
            if (kind == VmStateFieldKind.Nullptr && !bytes.SequenceEqual(NullPointerMarker))
            {
                value = null;
                Offset -= (int)size;
                return Fail($"a nullptr field must hold the single byte '0' (0x30), found {VmStateFormat.HexBytes(bytes)}");
            }

            return true;
        }

        /// <summary>
        /// A length byte (signed, as the script reads it) and that many bytes of UTF-8; the vmdesc
        /// size is not used, as the script does not use it.
        /// </summary>
        private bool DecodeCapability(out PyValue? value)
        {
            value = null;
            if (Remaining < 1)
            {
                return Fail("the body ends where a capability's length byte belongs");
            }

            var length = (sbyte)_body[Offset];
            if (length <= 0)
            {
                return Fail($"a capability has name length {length} (the script reads it as a signed byte and cannot show an empty name)");
            }

            if (Remaining < 1 + length)
            {
                return Fail($"the body ends inside a {length}-byte capability name");
            }

            try
            {
                value = new PyString(StrictUtf8.GetString(_body.Slice(Offset + 1, length)));
            }
            catch (DecoderFallbackException)
            {
                return Fail("a capability name is not UTF-8");
            }

            Offset += 1 + length;
            return true;
        }

        /// <summary>
        /// <c>05 | u8 len | name | u32 version</c>, then the subsection's own vmsd. The object is
        /// keyed by the name on the wire (as the script does), not the vmdesc's vmsd_name.
        /// </summary>
        private bool DecodeSubsection(JsonElement subsection, PyObject into, int depth)
        {
            var expected = subsection.ValueKind == JsonValueKind.Object && subsection.TryGetProperty("vmsd_name", out var n) && n.ValueKind == JsonValueKind.String
                ? n.GetString()!
                : "?";

            // Header errors name the subsection the vmdesc expects; its fields go under the name on the wire.
            _path.Add("." + expected);
            if (Remaining < 1)
            {
                return Fail($"the body ends where subsection '{expected}' should start");
            }

            if (_body[Offset] != SubsectionMarker)
            {
                return Fail($"subsection '{expected}' should start here with 0x05, found 0x{_body[Offset]:x2}");
            }

            if (Remaining < 2)
            {
                return Fail($"the body ends inside the header of subsection '{expected}'");
            }

            var nameLength = (sbyte)_body[Offset + 1];
            if (nameLength <= 0)
            {
                return Fail($"subsection '{expected}' has name length {nameLength} (the script reads it as a signed byte)");
            }

            if (Remaining < 2 + nameLength + 4)
            {
                return Fail($"the body ends inside the header of subsection '{expected}'");
            }

            string name;
            try
            {
                name = StrictUtf8.GetString(_body.Slice(Offset + 2, nameLength));
            }
            catch (DecoderFallbackException)
            {
                return Fail($"the name of subsection '{expected}' is not UTF-8");
            }

            _ = BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(Offset + 2 + nameLength));
            Offset += 2 + nameLength + 4;
            var child = new PyObject();
            into[name] = child;
            _path[^1] = "." + name;
            if (!DecodeVmsd(subsection, child, depth + 1))
            {
                return false;
            }

            _path.RemoveAt(_path.Count - 1);
            return true;
        }

        /// <summary>
        /// For a field the script shows as raw bytes but whose vmdesc still lists inner fields (tmp,
        /// vstruct) or a struct: the inner field that byte <paramref name="at"/> falls in, so a
        /// truncation names e.g. ".tmp_mant" and not just ".tmp".
        /// </summary>
        private static string InnerPath(JsonElement field, long at, int depth)
        {
            var vmsd = field;
            if (field.TryGetProperty("struct", out var nested) && nested.ValueKind == JsonValueKind.Object)
            {
                vmsd = nested;
            }

            if (depth > 32 || !vmsd.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array)
            {
                return "";
            }

            long start = 0;
            foreach (var inner in fields.EnumerateArray())
            {
                if (inner.ValueKind != JsonValueKind.Object
                    || !inner.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                    || !inner.TryGetProperty("size", out var sizeElement) || !TryInteger(sizeElement, out var size) || size <= 0)
                {
                    return "";
                }

                var count = inner.TryGetProperty("array_len", out var a) && TryInteger(a, out var n) ? Math.Max(n, 1) : 1;
                if (at < start + size * count)
                {
                    var element = (at - start) / size;
                    var segment = "." + name.GetString();
                    if (inner.TryGetProperty("array_len", out _))
                    {
                        segment += $"[{element}]";
                    }
                    else if (inner.TryGetProperty("index", out var index) && TryInteger(index, out var k))
                    {
                        segment += $"[{k}]";
                    }

                    return segment + InnerPath(inner, at - start - element * size, depth + 1);
                }

                start += size * count;
            }

            return "";
        }

        /// <summary>Python's int() of a JSON number: integers as they are, other numbers truncated.</summary>
        private static bool TryInteger(JsonElement element, out long value)
        {
            value = 0;
            if (element.ValueKind != JsonValueKind.Number)
            {
                return false;
            }

            if (element.TryGetInt64(out value))
            {
                return true;
            }

            if (element.TryGetDouble(out var d) && double.IsFinite(d) && Math.Abs(d) < 9.2e18)
            {
                value = (long)Math.Truncate(d);
                return true;
            }

            return false;
        }

        private static string TypeName(JsonElement field) =>
            field.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? $"'{t.GetString()}'" : "untyped";

        private static string Kind(JsonElement element) => element.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture);
    }
}
