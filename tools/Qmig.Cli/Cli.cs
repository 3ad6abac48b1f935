namespace Qmig.Cli;

/// <summary>Turns the exceptions a verb can meet on its input into qmig's exit codes with a one-line message.</summary>
internal static class Cli
{
    public static int Guard(TextWriter errors, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (UnsupportedInputException ex)
        {
            errors.WriteLine($"qmig: {ex.Message}");
            return ExitCodes.Unsupported;
        }
        catch (InvalidInputException ex)
        {
            errors.WriteLine(ex.Message);
            return ExitCodes.Invalid;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"qmig: {ex.Message}");
            return ExitCodes.UsageOrIo;
        }
    }
}
