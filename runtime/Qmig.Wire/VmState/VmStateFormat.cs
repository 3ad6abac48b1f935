using System.Globalization;
using System.Numerics;

namespace Qmig.Wire.VmState;

/// <summary>The strings analyze-migration.py prints for field values.</summary>
public static class VmStateFormat
{
    private const string Hex = "0123456789abcdef";

    /// <summary>Bytes as "0a 1b 2c" (empty for no bytes).</summary>
    public static string HexBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return "";
        }

        return string.Create(bytes.Length * 3 - 1, bytes.ToArray(), static (span, data) =>
        {
            for (var i = 0; i < data.Length; i++)
            {
                var at = i * 3;
                if (i > 0)
                {
                    span[at - 1] = ' ';
                }

                span[at] = Hex[data[i] >> 4];
                span[at + 1] = Hex[data[i] & 0xf];
            }
        });
    }

    /// <summary>
    /// '0x%0{2n}x' of the unsigned value, which is the bytes in hex; a negative signed value adds
    /// " (-N)" with its decimal value, as the script's '%s (%d)' does.
    /// </summary>
    public static string Integer(ReadOnlySpan<byte> bigEndian, bool signed)
    {
        var hex = string.Create(2 + bigEndian.Length * 2, bigEndian.ToArray(), static (span, data) =>
        {
            span[0] = '0';
            span[1] = 'x';
            for (var i = 0; i < data.Length; i++)
            {
                span[2 + i * 2] = Hex[data[i] >> 4];
                span[3 + i * 2] = Hex[data[i] & 0xf];
            }
        });
        if (!signed || bigEndian.IsEmpty || bigEndian[0] < 0x80)
        {
            return hex;
        }

        return $"{hex} ({SignedDecimal(bigEndian)})";
    }

    private static string SignedDecimal(ReadOnlySpan<byte> bigEndian)
    {
        if (bigEndian.Length <= 8)
        {
            long value = -1;
            foreach (var b in bigEndian)
            {
                value = (value << 8) | b;
            }

            return value.ToString(CultureInfo.InvariantCulture);
        }

        return new BigInteger(bigEndian, isUnsigned: false, isBigEndian: true).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The RAM section's '0x%016x' of a block length.</summary>
    public static string BlockLength(ulong length) => "0x" + length.ToString("x16", CultureInfo.InvariantCulture);
}
