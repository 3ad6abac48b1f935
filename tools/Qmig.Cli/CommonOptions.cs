using System.CommandLine;

namespace Qmig.Cli;

/// <summary>Options several verbs share, so they are spelled and described the same everywhere.</summary>
internal static class CommonOptions
{
    public static Argument<string> Input(string name = "file") => new(name)
    {
        Description = "A migration stream file, or - for standard input",
    };

    public static Option<string> Format(params string[] allowed)
    {
        var option = new Option<string>("--format", "-f")
        {
            Description = $"Output format: {string.Join(", ", allowed)}",
            DefaultValueFactory = _ => allowed[0],
        };
        option.AcceptOnlyFromAmong(allowed);
        return option;
    }

    public static Option<string?> VmDesc() => new("--vmdesc")
    {
        Description = "The vmdesc JSON to decode device state with (for a live, postcopy or truncated stream); a complete file's own is found by itself",
    };

    public static Option<int> PageSize() => new("--page-size")
    {
        Description = "Target page size in bytes when the stream does not say (default 4096)",
        DefaultValueFactory = _ => 4096,
    };

    /// <summary>
    /// <c>--offset N</c>: where the stream begins in the file, as QEMU's <c>file:PATH,offset=N</c>
    /// takes it (decimal, 0x hex, or with a K/M/G suffix).
    /// </summary>
    public static Option<long?> Offset() => Size("--offset",
        "Where the migration stream begins in the file (QEMU's file:PATH,offset=N): decimal, 0x hex or K/M/G; a libvirt save image is recognised without it");

    /// <summary>An option that takes a byte count: decimal, 0x hex, or with a K/M/G suffix.</summary>
    public static Option<long?> Size(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (TryParseSize(text, out var value))
            {
                return value;
            }

            result.AddError($"{name} wants a byte count such as 65536, 0x10000 or 64K, not '{text}'");
            return null;
        },
    };

    /// <summary>A byte count option in the same forms as <c>--offset</c> (decimal, 0x hex, or with a K/M/G suffix).</summary>
    public static Option<long?> ByteCount(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (TryParseSize(text, out var value))
            {
                return value;
            }

            result.AddError($"{name} wants a byte count such as 65536, 0x10000 or 64G, not '{text}'");
            return null;
        },
    };

    private static bool TryParseSize(string text, out long value)
    {
        value = 0;
        var shift = text.Length > 0 ? char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 } : 0;
        var digits = shift > 0 ? text[..^1] : text;
        var parsed = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(digits[2..], System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out value)
            : long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
        if (!parsed || value < 0 || value > (long.MaxValue >> shift))
        {
            return false;
        }

        value <<= shift;
        return true;
    }
}
