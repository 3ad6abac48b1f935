using System.Text;
using Qmig.Wire.PythonJson;
using Xunit;

namespace Qmig.Cli.Tests.State;

/// <summary>
/// The parser and writer against outputs of Debian's python3 (3.11):
/// <c>json.JSONEncoder(indent=4, separators=(',', ': ')).encode(json.loads(s, object_pairs_hook=OrderedDict))</c>.
/// </summary>
public class PythonJsonTests
{
    [Fact]
    public void Round_trip_matches_python_for_every_value_kind()
    {
        const string input = """
            {"a": [], "b": {}, "c": [1, 2.5, -0, 1e16, 1E-5, 0.0001, 123456789012345678901234567890, true, false, null, "\u00e9\ud83d\ude00\ud800\u007f\"\\\/\b\f\n\r\t\u0001 ~"], "a": 3, "d": {"x": [{"y": {}}]}, "n": [NaN, Infinity, -Infinity, -0.0, 1e400, 100.0, 1.5e300]}
            """;
        const string python = """
            {
                "a": 3,
                "b": {},
                "c": [
                    1,
                    2.5,
                    0,
                    1e+16,
                    1e-05,
                    0.0001,
                    123456789012345678901234567890,
                    true,
                    false,
                    null,
                    "\u00e9\ud83d\ude00\ud800\u007f\"\\/\b\f\n\r\t\u0001 ~"
                ],
                "d": {
                    "x": [
                        {
                            "y": {}
                        }
                    ]
                },
                "n": [
                    NaN,
                    Infinity,
                    -Infinity,
                    -0.0,
                    Infinity,
                    100.0,
                    1.5e+300
                ]
            }
            """;

        Assert.True(PythonJsonParser.TryParse(Encoding.UTF8.GetBytes(input), out var value, out var error), error);
        Assert.Equal(python, PythonJsonWriter.ToText(value!));
    }

    [Fact]
    public void Non_ascii_text_is_escaped_per_utf16_unit()
    {
        var input = Encoding.UTF8.GetBytes("{\"k\": \"caf\u00e9 \U0001F600\"}");

        Assert.True(PythonJsonParser.TryParse(input, out var value, out _));
        Assert.Equal("{\n    \"k\": \"caf\\u00e9 \\ud83d\\ude00\"\n}", PythonJsonWriter.ToText(value!));
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(1.0 / 3, "0.3333333333333333")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(123456789.125, "123456789.125")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(12345678901234567.0, "1.2345678901234568e+16")]
    [InlineData(1152921504606846976.0, "1.152921504606847e+18")]
    [InlineData(-1.25e-7, "-1.25e-07")]
    [InlineData(0.0, "0.0")]
    public void Float_repr_matches_python(double value, string python) => Assert.Equal(python, PythonFloat.Repr(value));

    [Theory]
    [InlineData("{\"a\": 1,}")]
    [InlineData("[1 2]")]
    [InlineData("01")]
    [InlineData("\"\u0001\"")]
    [InlineData("\ufeff{}")]
    [InlineData("-")]
    [InlineData("{\"a\"")]
    [InlineData("[")]
    [InlineData("\"\\x\"")]
    [InlineData("\"\\u12\"")]
    [InlineData("{1: 2}")]
    [InlineData("nul")]
    [InlineData("1.")]
    [InlineData("1e")]
    [InlineData("{\"a\": 1} x")]
    [InlineData("")]
    public void What_python_rejects_is_an_error_not_an_exception(string input)
    {
        Assert.False(PythonJsonParser.TryParse(input, out var value, out var error));
        Assert.Null(value);
        Assert.NotNull(error);
    }

    [Fact]
    public void Invalid_utf8_and_deep_nesting_are_errors()
    {
        Assert.False(PythonJsonParser.TryParse(new byte[] { (byte)'"', 0xc3, 0x28, (byte)'"' }, out _, out _));
        Assert.False(PythonJsonParser.TryParse(new string('[', 100_000), out _, out var error));
        Assert.Contains("deep", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_keys_keep_their_first_place_and_last_value()
    {
        Assert.True(PythonJsonParser.TryParse("{\"x\": 1, \"y\": 2, \"x\": [3]}", out var value, out _));
        Assert.Equal("{\n    \"x\": [\n        3\n    ],\n    \"y\": 2\n}", PythonJsonWriter.ToText(value!));
    }
}
