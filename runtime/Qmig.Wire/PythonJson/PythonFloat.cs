using System.Globalization;
using System.Text;

namespace Qmig.Wire.PythonJson;

/// <summary>
/// Python's <c>repr(float)</c> as <c>json.dumps</c> prints it: the shortest digits that round-trip
/// (.NET's "R" gives the same digits), fixed notation for decimal exponents -4 &lt; e &lt;= 16 with a
/// ".0" when there is no fraction, otherwise <c>d.ddde±XX</c>; NaN and the infinities as the json
/// module spells them.
/// </summary>
public static class PythonFloat
{
    /// <summary>The text Python's <c>json.dumps</c> writes for <paramref name="value"/>.</summary>
    public static string Repr(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        var negative = double.IsNegative(value);
        var (digits, decimalPoint) = ShortestDigits(Math.Abs(value));
        var text = new StringBuilder();
        if (negative)
        {
            text.Append('-');
        }

        if (decimalPoint <= -4 || decimalPoint > 16)
        {
            text.Append(digits[0]);
            if (digits.Length > 1)
            {
                text.Append('.').Append(digits, 1, digits.Length - 1);
            }

            var exponent = decimalPoint - 1;
            text.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decimalPoint <= 0)
        {
            text.Append("0.").Append('0', -decimalPoint).Append(digits);
        }
        else if (decimalPoint >= digits.Length)
        {
            text.Append(digits).Append('0', decimalPoint - digits.Length).Append(".0");
        }
        else
        {
            text.Append(digits, 0, decimalPoint).Append('.').Append(digits, decimalPoint, digits.Length - decimalPoint);
        }

        return text.ToString();
    }

    /// <summary>The significant digits and the position of the decimal point: value = 0.DIGITS × 10^point.</summary>
    private static (string Digits, int Point) ShortestDigits(double value)
    {
        if (value == 0)
        {
            return ("0", 1);
        }

        var r = value.ToString("R", CultureInfo.InvariantCulture);
        var exponent = 0;
        var e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r.Substring(0, e);
        }

        var dot = r.IndexOf('.');
        var integerPart = dot >= 0 ? r.Substring(0, dot) : r;
        var fraction = dot >= 0 ? r.Substring(dot + 1) : "";
        var all = integerPart + fraction;
        var point = integerPart.Length + exponent;
        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        point -= leading;
        return (all.Substring(leading).TrimEnd('0'), point);
    }
}
