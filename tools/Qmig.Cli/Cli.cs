namespace Qmig.Cli;

/// <summary>Turns I/O failures into qmig's usage/I-O exit code with a one-line message.</summary>
public static class Cli
{
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (UnsupportedInputException ex)
        {
            Console.Error.WriteLine($"qmig: {ex.Message}");
            return ExitCodes.Unsupported;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"qmig: {ex.Message}");
            return ExitCodes.UsageOrIo;
        }
    }
}
