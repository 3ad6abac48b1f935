namespace Qmig.Cli.Tests;

/// <summary>Runs qmig's real command tree in this process (<see cref="Program.Run"/>), for tests that run it hundreds of times.</summary>
internal static class QmigInProcess
{
    public static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
