using System.Text.Json;
using Qmig.Wire.PythonJson;
using Qmig.Wire.VmState;
using Xunit;

namespace Qmig.Cli.Tests.State;

/// <summary>
/// Each field type as analyze-migration.py (7.2 with unsigned 16/32/64-bit reads, and 10.0) shows it, and
/// hostile bodies and descriptions, which must give an error with an offset and a path, never
/// an exception or a read outside the body.
/// </summary>
public class VmStateDecoderTests
{
    private static VmStateResult Decode(string fieldsJson, byte[] body, string subsections = "", AnalyzerShape shape = AnalyzerShape.Qemu72)
    {
        var json = $"{{\"name\": \"dev\", \"instance_id\": 0, \"vmsd_name\": \"dev\", \"version\": 1, \"fields\": [{fieldsJson}]{subsections}}}";
        using var document = JsonDocument.Parse(json);
        return VmStateDecoder.Decode(body, document.RootElement, "dev", shape: shape);
    }

    private static VmStateResult Ok10(string fieldsJson, params byte[] body)
    {
        var result = Decode(fieldsJson, body, shape: AnalyzerShape.Qemu10);
        Assert.Null(result.Error);
        Assert.Equal(body.Length, result.Consumed);
        return result;
    }

    private static string Field(string name, string type, int size, string extra = "") =>
        $"{{\"name\": \"{name}\", \"type\": \"{type}\", \"size\": {size}{extra}}}";

    private static string Text(PyValue value) => value switch
    {
        PyString s => s.Value,
        PyBool b => b.Value ? "true" : "false",
        _ => PythonJsonWriter.ToText(value),
    };

    private static VmStateResult Ok(string fieldsJson, params byte[] body)
    {
        var result = Decode(fieldsJson, body);
        Assert.Null(result.Error);
        Assert.Equal(body.Length, result.Consumed);
        return result;
    }

    [Theory]
    [InlineData("uint8", new byte[] { 0x0f }, "0x0f")]
    [InlineData("uint16", new byte[] { 0xff, 0xf0 }, "0xfff0")]
    [InlineData("uint32", new byte[] { 0x00, 0x00, 0xff, 0xf0 }, "0x0000fff0")]
    [InlineData("uint64", new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, "0xffffffffffffffff")]
    [InlineData("uint32 equal", new byte[] { 0x80, 0, 0, 0 }, "0x80000000")]
    [InlineData("int8", new byte[] { 0x80 }, "0x80 (-128)")]
    [InlineData("int16", new byte[] { 0x7f, 0xff }, "0x7fff")]
    [InlineData("int32", new byte[] { 0xff, 0xff, 0xff, 0xff }, "0xffffffff (-1)")]
    [InlineData("int32 le", new byte[] { 0xff, 0xff, 0xff, 0xfe }, "0xfffffffe (-2)")]
    [InlineData("int32 equal", new byte[] { 0, 0, 0, 5 }, "0x00000005")]
    [InlineData("int64", new byte[] { 0x80, 0, 0, 0, 0, 0, 0, 0 }, "0x8000000000000000 (-9223372036854775808)")]
    [InlineData("int64 equal", new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, "0xffffffffffffffff (-1)")]
    // The script reads these two "equal" types with its signed reader.
    [InlineData("uint8 equal", new byte[] { 0xff }, "0xff (-1)")]
    [InlineData("uint16 equal", new byte[] { 0x80, 0x01 }, "0x8001 (-32767)")]
    public void Integers_are_zero_padded_hex_and_negative_signed_values_add_their_decimal(string type, byte[] body, string expected)
    {
        var result = Ok(Field("f", type, body.Length), body);
        Assert.Equal(expected, Text(result.State["f"]));
    }

    [Fact]
    public void Integers_of_unusual_sizes_use_every_byte()
    {
        var result = Ok(Field("a", "int32", 3) + "," + Field("b", "int64", 12), 0xff, 0xff, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Assert.Equal("0xfffffe (-2)", Text(result.State["a"]));
        Assert.Equal("0xff0000000000000000000000 (-309485009821345068724781056)", Text(result.State["b"]));
    }

    [Fact]
    public void Bools_are_true_for_any_non_zero_first_byte()
    {
        var result = Ok(Field("a", "bool", 1) + "," + Field("b", "bool", 1) + "," + Field("c", "bool", 2), 0, 2, 0, 1);
        Assert.Same(PyBool.False, result.State["a"]);
        Assert.Same(PyBool.True, result.State["b"]);
        Assert.Same(PyBool.False, result.State["c"]);
    }

    [Theory]
    [InlineData("buffer")]
    [InlineData("unused_buffer")]
    [InlineData("timer")]
    [InlineData("bitmap")]
    [InlineData("CPU_Double_U")]
    [InlineData("pci config")]
    [InlineData("some future type")]
    public void Buffers_and_types_the_script_does_not_know_are_hex_bytes(string type)
    {
        var result = Ok(Field("f", type, 3), 0x00, 0xab, 0x10);
        Assert.Equal("00 ab 10", Text(result.State["f"]));
    }

    [Fact]
    public void Tmp_and_vstruct_are_raw_bytes_even_with_inner_fields()
    {
        var tmp = "{\"name\": \"tmp\", \"type\": \"tmp\", \"vmsd_name\": \"t\", \"version\": 0, \"fields\": [" + Field("m", "uint8", 1) + "," + Field("e", "uint8", 1) + "], \"size\": 2}";
        var result = Ok(tmp, 1, 2);
        Assert.Equal("01 02", Text(result.State["tmp"]));
    }

    [Fact]
    public void A_field_without_a_type_and_a_zero_size_buffer_are_raw()
    {
        var result = Ok("{\"name\": \"a\", \"size\": 1}," + Field("b", "buffer", 0), 7);
        Assert.Equal("07", Text(result.State["a"]));
        Assert.Equal("", Text(result.State["b"]));
    }

    [Fact]
    public void Array_len_and_index_entries_become_lists()
    {
        var fields = Field("regs", "uint16", 2, ", \"array_len\": 3") + "," + Field("x", "uint8", 1, ", \"index\": 0") + "," + Field("x", "bool", 1, ", \"index\": 1");
        var result = Ok(fields, 0, 1, 0, 2, 0, 3, 9, 1);
        Assert.Equal("[\n    \"0x0001\",\n    \"0x0002\",\n    \"0x0003\"\n]", Text(result.State["regs"]));
        Assert.Equal("[\n    \"0x09\",\n    true\n]", Text(result.State["x"]));
    }

    [Fact]
    public void Array_len_zero_still_reads_one_element_as_the_scripts_unfolding_does()
    {
        var result = Ok(Field("a", "uint8", 1, ", \"array_len\": 0"), 5);
        Assert.Equal("[\n    \"0x05\"\n]", Text(result.State["a"]));
    }

    [Fact]
    public void Structs_nest_and_arrays_of_structs_hold_objects()
    {
        var inner = "{\"vmsd_name\": \"s\", \"version\": 0, \"fields\": [" + Field("a", "uint8", 1) + "," + Field("b", "uint16", 2) + "]}";
        var fields = "{\"name\": \"one\", \"type\": \"struct\", \"struct\": " + inner + ", \"size\": 3}," +
            "{\"name\": \"many\", \"array_len\": 2, \"type\": \"struct\", \"struct\": " + inner + ", \"size\": 3}";
        var result = Ok(fields, 1, 0, 2, 3, 0, 4, 5, 0, 6);
        var one = Assert.IsType<PyObject>(result.State["one"]);
        Assert.Equal("0x01", Text(one["a"]));
        Assert.Equal("0x0002", Text(one["b"]));
        var many = Assert.IsType<PyList>(result.State["many"]);
        Assert.Equal("0x0006", Text(((PyObject)many.Items[1])["b"]));
    }

    [Fact]
    public void Subsections_follow_the_fields_under_their_wire_name()
    {
        var subsections = ", \"subsections\": [{\"vmsd_name\": \"dev/sub\", \"version\": 1, \"fields\": [" + Field("s", "uint32", 4) + "]}]";
        byte[] body = [7, 0x05, 7, .. "dev/sub"u8, 0, 0, 0, 1, 0, 0, 0, 9];
        var result = Decode(Field("a", "uint8", 1), body, subsections);
        Assert.Null(result.Error);
        var sub = Assert.IsType<PyObject>(result.State["dev/sub"]);
        Assert.Equal("0x00000009", Text(sub["s"]));
        Assert.Equal(["a", "dev/sub"], result.State.Items.Select(i => i.Key));
    }

    [Fact]
    public void A_repeated_name_keeps_its_first_place_and_takes_the_last_value()
    {
        var result = Ok(Field("a", "uint8", 1) + "," + Field("b", "uint8", 1) + "," + Field("a", "uint8", 1), 1, 2, 3);
        Assert.Equal(["a", "b"], result.State.Items.Select(i => i.Key));
        Assert.Equal("0x03", Text(result.State["a"]));
    }

    [Fact]
    public void A_truncated_body_names_the_field_and_the_offset()
    {
        var result = Decode(Field("a", "uint32", 4) + "," + Field("b", "uint64", 8), [0, 0, 0, 1, 0, 0]);
        Assert.NotNull(result.Error);
        Assert.Equal(4, result.Error!.Offset);
        Assert.Equal("dev.b", result.Error.Path);
        Assert.Equal("0x00000001", Text(result.State["a"]));
    }

    [Fact]
    public void A_truncation_inside_a_tmp_names_the_inner_field_of_the_array_element()
    {
        var tmp = "{\"name\": \"tmp\", \"type\": \"tmp\", \"vmsd_name\": \"fpreg_tmp\", \"version\": 0, \"fields\": [" +
            Field("tmp_mant", "uint64", 8) + "," + Field("tmp_exp", "uint16", 2) + "], \"size\": 10}";
        var fields = "{\"name\": \"env.fpregs\", \"array_len\": 8, \"type\": \"struct\", \"struct\": {\"vmsd_name\": \"fpreg\", \"version\": 0, \"fields\": [" + tmp + "]}, \"size\": 10}";
        var result = Decode(fields, new byte[35]);
        Assert.Equal(30, result.Error!.Offset);
        Assert.Equal("dev.env.fpregs[3].tmp.tmp_mant", result.Error.Path);
    }

    [Fact]
    public void Bytes_after_the_description_are_an_error()
    {
        var result = Decode(Field("a", "uint8", 1), [1, 2, 3]);
        Assert.Equal(1, result.Error!.Offset);
        Assert.Contains("2 bytes follow", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversized_array_len_stops_at_the_end_of_the_body()
    {
        var result = Decode(Field("a", "uint32", 4, ", \"array_len\": 1099511627776"), new byte[4096]);
        Assert.Equal(4096, result.Error!.Offset);
        Assert.StartsWith("dev.a[1024]", result.Error.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversized_array_len_of_zero_sized_elements_hits_the_value_budget()
    {
        var empty = "{\"name\": \"e\", \"array_len\": 4611686018427387904, \"type\": \"struct\", \"struct\": {\"vmsd_name\": \"e\", \"version\": 0, \"fields\": []}, \"size\": 0}";
        var result = Decode(empty, []);
        Assert.Contains("more than", result.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(0, result.Error.Offset);
    }

    [Theory]
    [InlineData("{\"name\": \"a\", \"type\": \"uint32\", \"size\": -1}", "size -1")]
    [InlineData("{\"name\": \"a\", \"type\": \"uint32\", \"size\": 0}", "size 0")]
    [InlineData("{\"name\": \"a\", \"type\": \"bool\", \"size\": 0}", "size 0")]
    [InlineData("{\"name\": \"a\", \"type\": \"uint32\"}", "no integer size")]
    [InlineData("{\"name\": \"a\", \"type\": \"uint32\", \"size\": \"4\"}", "no integer size")]
    [InlineData("{\"type\": \"uint32\", \"size\": 4}", "no name")]
    [InlineData("{\"name\": 5, \"type\": \"uint32\", \"size\": 4}", "no name")]
    [InlineData("\"a\"", "where a field object belongs")]
    [InlineData("{\"name\": \"a\", \"type\": \"struct\", \"size\": 4}", "no \"struct\"")]
    [InlineData("{\"name\": \"a\", \"type\": \"struct\", \"struct\": [], \"size\": 4}", "where a vmsd object belongs")]
    [InlineData("{\"name\": \"a\", \"type\": \"struct\", \"struct\": {}, \"size\": 4}", "no \"fields\"")]
    [InlineData("{\"name\": \"a\", \"type\": \"uint8\", \"size\": 1, \"array_len\": \"x\"}", "array_len is not an integer")]
    [InlineData("{\"name\": \"a\", \"type\": \"uint8\", \"size\": 1, \"index\": null}", "index is not an integer")]
    [InlineData("{\"name\": \"a\", \"type\": \"uint8\", \"size\": 1}, {\"name\": \"a\", \"type\": \"uint8\", \"size\": 1, \"index\": 0}", "earlier plain field")]
    public void Malformed_descriptions_are_errors(string fields, string message)
    {
        var result = Decode(fields, [1, 2, 3, 4]);
        Assert.NotNull(result.Error);
        Assert.Contains(message, result.Error!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 7 }, "body ends where subsection")]
    [InlineData(new byte[] { 7, 0x06 }, "should start here with 0x05")]
    [InlineData(new byte[] { 7, 0x05 }, "inside the header")]
    [InlineData(new byte[] { 7, 0x05, 0x00, 0, 0, 0, 1 }, "name length 0")]
    [InlineData(new byte[] { 7, 0x05, 0x80, 0, 0, 0, 1 }, "name length -128")]
    [InlineData(new byte[] { 7, 0x05, 0x07, (byte)'d', (byte)'e', (byte)'v' }, "inside the header")]
    [InlineData(new byte[] { 7, 0x05, 0x02, 0xc3, 0x28, 0, 0, 0, 1 }, "not UTF-8")]
    public void Broken_subsection_headers_are_errors(byte[] body, string message)
    {
        var subsections = ", \"subsections\": [{\"vmsd_name\": \"dev/sub\", \"version\": 1, \"fields\": []}]";
        var result = Decode(Field("a", "uint8", 1), body, subsections);
        Assert.NotNull(result.Error);
        Assert.Contains(message, result.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(1, result.Error.Offset);
        Assert.Equal("dev.dev/sub", result.Error.Path);
    }

    [Fact]
    public void A_description_that_is_not_an_object_is_an_error()
    {
        using var document = JsonDocument.Parse("[1, 2]");
        var result = VmStateDecoder.Decode([1], document.RootElement, "dev");
        Assert.NotNull(result.Error);
        Assert.Equal("dev", result.Error!.Path);
    }

    /// <summary>QEMU 10.0 writes an array of structs as entries of one name, all but the last with an index.</summary>
    [Fact]
    public void In_the_10_shape_entries_of_one_name_gather_into_a_list_with_or_without_an_index()
    {
        var inner = "{\"vmsd_name\": \"s\", \"version\": 0, \"fields\": [" + Field("a", "uint8", 1) + "]}";
        var fields = "{\"name\": \"drives\", \"index\": 0, \"type\": \"struct\", \"struct\": " + inner + ", \"size\": 1}," +
            "{\"name\": \"drives\", \"index\": 1, \"type\": \"struct\", \"struct\": " + inner + ", \"size\": 1}," +
            "{\"name\": \"drives\", \"type\": \"struct\", \"struct\": " + inner + ", \"size\": 1}," + Field("after", "uint8", 1);

        var ten = Ok10(fields, 1, 2, 3, 4);
        var drives = Assert.IsType<PyList>(ten.State["drives"]);
        Assert.Equal(["0x01", "0x02", "0x03"], drives.Items.Select(d => Text(((PyObject)d)["a"])));
        Assert.Equal(["drives", "after"], ten.State.Items.Select(i => i.Key));

        // QEMU 7.2's script lists the indexed entries, then the last entry replaces the list.
        var seven = Ok(fields, 1, 2, 3, 4);
        Assert.Equal("0x03", Text(Assert.IsType<PyObject>(seven.State["drives"])["a"]));
    }

    [Fact]
    public void In_the_10_shape_a_second_plain_entry_makes_a_list_and_a_lone_indexed_one_stays_a_value()
    {
        var result = Ok10(Field("a", "uint8", 1) + "," + Field("b", "uint8", 1, ", \"index\": 0") + "," + Field("a", "uint8", 1) + "," + Field("c", "uint8", 1, ", \"array_len\": 1"), 1, 2, 3, 4);
        Assert.Equal("[\n    \"0x01\",\n    \"0x03\"\n]", Text(result.State["a"]));
        Assert.Equal("0x02", Text(result.State["b"]));
        Assert.Equal("0x04", Text(result.State["c"]));
        Assert.Equal(["a", "b", "c"], result.State.Items.Select(i => i.Key));
    }

    [Fact]
    public void In_the_10_shape_a_null_pointer_is_nullptr_and_in_the_72_shape_raw_bytes()
    {
        // An array of pointers with a NULL in the middle: QEMU 10.0 splits it into runs of one name.
        var fields = Field("p", "uint8", 1, ", \"index\": 0") + "," + Field("p", "nullptr", 1, ", \"index\": 1") + "," + Field("p", "uint8", 1);
        Assert.Equal("[\n    \"0x07\",\n    \"nullptr\",\n    \"0x09\"\n]", Text(Ok10(fields, 7, (byte)'0', 9).State["p"]));
        Assert.Equal("0x09", Text(Ok(fields, 7, (byte)'0', 9).State["p"]));
        Assert.Equal("30", Text(Ok(Field("p", "nullptr", 1), (byte)'0').State["p"]));
    }

    [Theory]
    [InlineData(new byte[] { 0x31 }, 1)]
    [InlineData(new byte[] { 0x30, 0x30 }, 2)]
    public void A_nullptr_field_that_is_not_the_byte_0_is_an_error(byte[] body, int size)
    {
        var result = Decode(Field("x", "uint8", 1) + "," + Field("p", "nullptr", size), [5, .. body], shape: AnalyzerShape.Qemu10);
        Assert.Equal(1, result.Error!.Offset);
        Assert.Equal("dev.p", result.Error.Path);
        Assert.Contains("nullptr", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void In_the_10_shape_a_capability_is_its_name()
    {
        byte[] body = [10, .. "mapped-ram"u8];
        Assert.Equal("mapped-ram", Text(Ok10(Field("cap", "capability", 11), body).State["cap"]));
        Assert.Equal("0a 6d 61 70 70 65 64 2d 72 61 6d", Text(Ok(Field("cap", "capability", 11), body).State["cap"]));
    }

    [Theory]
    [InlineData(new byte[] { }, "length byte")]
    [InlineData(new byte[] { 0 }, "name length 0")]
    [InlineData(new byte[] { 0x80 }, "name length -128")]
    [InlineData(new byte[] { 3, (byte)'a' }, "inside a 3-byte")]
    [InlineData(new byte[] { 2, 0xc3, 0x28 }, "not UTF-8")]
    public void Broken_capabilities_are_errors(byte[] body, string message)
    {
        var result = Decode(Field("cap", "capability", 11), body, shape: AnalyzerShape.Qemu10);
        Assert.Equal(0, result.Error!.Offset);
        Assert.Contains(message, result.Error.Message, StringComparison.Ordinal);
    }
}
