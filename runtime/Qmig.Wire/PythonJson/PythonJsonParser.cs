using System.Globalization;
using System.Text;

namespace Qmig.Wire.PythonJson;

/// <summary>
/// Parses JSON the way analyze-migration.py does (<c>bytes.decode("utf-8")</c>, then
/// <c>json.loads(..., object_pairs_hook=OrderedDict)</c>), so that writing the result back gives
/// the script's desc.json: object keys keep their first position and take their last value,
/// numbers keep Python's int/float distinction, NaN and Infinity are accepted, raw control
/// characters in strings are not. It never throws: bad input gives an error with its position.
/// </summary>
public static class PythonJsonParser
{
    /// <summary>Python's recursion limit stops json.loads around here; a cap keeps our stack safe too.</summary>
    public const int MaxDepth = 512;

    /// <summary>Python 3.11 refuses to convert integers with more digits than this (sys.int_info.default_max_str_digits).</summary>
    public const int MaxIntegerDigits = 4300;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses UTF-8 JSON as Python would; false with <paramref name="error"/> (naming the position) when Python would refuse it or it is not UTF-8.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out PyValue? value, out string? error)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException ex)
        {
            value = null;
            error = $"the JSON is not valid UTF-8 ({ex.Message})";
            return false;
        }

        return TryParse(text, out value, out error);
    }

    /// <summary>Parses JSON text as Python would; false with <paramref name="error"/> (naming the position) when Python would refuse it.</summary>
    public static bool TryParse(string text, out PyValue? value, out string? error)
    {
        var parser = new Parser(text);
        value = parser.ParseDocument();
        error = parser.Error;
        if (error is not null)
        {
            value = null;
            return false;
        }

        return true;
    }

    private sealed class Parser(string text)
    {
        private int _at;

        public string? Error { get; private set; }

        public PyValue? ParseDocument()
        {
            if (text.Length > 0 && text[0] == '\ufeff')
            {
                return Fail("Unexpected UTF-8 BOM");
            }

            SkipWhitespace();
            var value = ParseValue(0);
            if (value is null)
            {
                return null;
            }

            SkipWhitespace();
            return _at != text.Length ? Fail("Extra data") : value;
        }

        /// <summary>Consumes <paramref name="expected"/> when it is the next character.</summary>
        private bool Take(char expected)
        {
            if (_at < text.Length && text[_at] == expected)
            {
                _at++;
                return true;
            }

            return false;
        }

        private PyValue? Fail(string message)
        {
            Error ??= $"{message} at char {_at}";
            return null;
        }

        private void SkipWhitespace()
        {
            while (_at < text.Length && text[_at] is ' ' or '\t' or '\n' or '\r')
            {
                _at++;
            }
        }

        private bool At(string literal) => string.CompareOrdinal(text, _at, literal, 0, literal.Length) == 0;

        private PyValue? ParseValue(int depth)
        {
            if (_at >= text.Length)
            {
                return Fail("Expecting value");
            }

            switch (text[_at])
            {
                case '"':
                    _at++;
                    return ParseString() is { } s ? new PyString(s) : null;
                case '{':
                    return depth >= MaxDepth ? Fail("JSON nested too deeply") : ParseObject(depth + 1);
                case '[':
                    return depth >= MaxDepth ? Fail("JSON nested too deeply") : ParseArray(depth + 1);
                case 'n' when At("null"):
                    _at += 4;
                    return PyNull.Instance;
                case 't' when At("true"):
                    _at += 4;
                    return PyBool.True;
                case 'f' when At("false"):
                    _at += 5;
                    return PyBool.False;
                case 'N' when At("NaN"):
                    _at += 3;
                    return new PyNumber("NaN");
                case 'I' when At("Infinity"):
                    _at += 8;
                    return new PyNumber("Infinity");
                case '-' when At("-Infinity"):
                    _at += 9;
                    return new PyNumber("-Infinity");
                default:
                    return ParseNumber();
            }
        }

        private PyValue? ParseObject(int depth)
        {
            _at++;
            var result = new PyObject();
            SkipWhitespace();
            if (Take('}'))
            {
                return result;
            }

            while (true)
            {
                if (_at >= text.Length || text[_at] != '"')
                {
                    return Fail("Expecting property name enclosed in double quotes");
                }

                _at++;
                var key = ParseString();
                if (key is null)
                {
                    return null;
                }

                SkipWhitespace();
                if (_at >= text.Length || text[_at] != ':')
                {
                    return Fail("Expecting ':' delimiter");
                }

                _at++;
                SkipWhitespace();
                var value = ParseValue(depth);
                if (value is null)
                {
                    return null;
                }

                result[key] = value;
                SkipWhitespace();
                if (Take('}'))
                {
                    return result;
                }

                if (!Take(','))
                {
                    return Fail("Expecting ',' delimiter");
                }

                SkipWhitespace();
            }
        }

        private PyValue? ParseArray(int depth)
        {
            _at++;
            var result = new PyList();
            SkipWhitespace();
            if (Take(']'))
            {
                return result;
            }

            while (true)
            {
                var value = ParseValue(depth);
                if (value is null)
                {
                    return null;
                }

                result.Items.Add(value);
                SkipWhitespace();
                if (Take(']'))
                {
                    return result;
                }

                if (!Take(','))
                {
                    return Fail("Expecting ',' delimiter");
                }

                SkipWhitespace();
            }
        }

        /// <summary>After the opening quote. Escapes become UTF-16 units as Python's do (a \u pair makes one character, a lone half stays).</summary>
        private string? ParseString()
        {
            var builder = new StringBuilder();
            while (true)
            {
                var run = _at;
                while (_at < text.Length && text[_at] is not ('"' or '\\') && text[_at] >= ' ')
                {
                    _at++;
                }

                builder.Append(text, run, _at - run);
                if (_at >= text.Length)
                {
                    Fail("Unterminated string starting");
                    return null;
                }

                var c = text[_at];
                if (c == '"')
                {
                    _at++;
                    return builder.ToString();
                }

                if (c != '\\')
                {
                    Fail("Invalid control character");
                    return null;
                }

                _at++;
                if (_at >= text.Length)
                {
                    Fail("Unterminated string starting");
                    return null;
                }

                var escape = text[_at++];
                switch (escape)
                {
                    case '"': builder.Append('"'); break;
                    case '\\': builder.Append('\\'); break;
                    case '/': builder.Append('/'); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'n': builder.Append('\n'); break;
                    case 'r': builder.Append('\r'); break;
                    case 't': builder.Append('\t'); break;
                    case 'u':
                        if (_at + 4 > text.Length || !ushort.TryParse(text.AsSpan(_at, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var unit))
                        {
                            Fail("Invalid \\uXXXX escape");
                            return null;
                        }

                        _at += 4;
                        builder.Append((char)unit);
                        break;
                    default:
                        _at--;
                        Fail("Invalid \\escape");
                        return null;
                }
            }
        }

        private PyValue? ParseNumber()
        {
            var start = _at;
            var i = _at;
            if (i < text.Length && text[i] == '-')
            {
                i++;
            }

            if (i < text.Length && text[i] is >= '1' and <= '9')
            {
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }
            }
            else if (i < text.Length && text[i] == '0')
            {
                i++;
            }
            else
            {
                return Fail("Expecting value");
            }

            var isFloat = false;
            if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
            {
                isFloat = true;
                i += 2;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }
            }

            if (i < text.Length && text[i] is 'e' or 'E')
            {
                var j = i + 1;
                if (j < text.Length && text[j] is '+' or '-')
                {
                    j++;
                }

                if (j < text.Length && char.IsAsciiDigit(text[j]))
                {
                    while (j < text.Length && char.IsAsciiDigit(text[j]))
                    {
                        j++;
                    }

                    isFloat = true;
                    i = j;
                }
            }

            _at = i;
            var literal = text.AsSpan(start, i - start);
            if (isFloat)
            {
                return new PyNumber(PythonFloat.Repr(double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture)));
            }

            var digits = literal[0] == '-' ? literal.Slice(1) : literal;
            if (digits.Length > MaxIntegerDigits)
            {
                _at = start;
                return Fail($"integer with more than {MaxIntegerDigits} digits");
            }

            // int() drops the sign of zero; anything else prints exactly as written (no leading zeros can occur).
            return new PyNumber(digits is "0" ? "0" : literal.ToString());
        }
    }
}
