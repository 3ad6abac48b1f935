using System.CommandLine;

namespace Qmig.Cli;

/// <summary>Options several verbs share, so they are spelled and described the same everywhere.</summary>
public static class CommonOptions
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
}
