using System.Diagnostics;

namespace Qmig.Cli.Tests;

/// <summary>Runs the built qmig.dll as a separate process, exactly as a user would run it.</summary>
internal static class QmigProcess
{
    public static (int ExitCode, string Output, string Error) Run(params string[] args) => Wait(Start(args));

    /// <summary>Runs a natively published qmig executable (not qmig.dll through the dotnet host).</summary>
    public static (int ExitCode, string Output, string Error) RunExecutable(string executable, params string[] args) => Wait(Start(executable, [], args));

    private static (int ExitCode, string Output, string Error) Wait(Process process)
    {
        using var _ = process;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("qmig did not exit within 60 s");
        }

        return (process.ExitCode, output, error.Result);
    }

    /// <summary>Starts qmig with redirected output and returns at once (for verbs that serve, like receive).</summary>
    public static Process Start(params string[] args) => Start(DotnetHost(), [Path.Combine(AppContext.BaseDirectory, "qmig.dll")], args);

    private static Process Start(string executable, string[] hostArgs, string[] args)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in hostArgs.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start qmig");
    }

    // dotnet test sets DOTNET_HOST_PATH to the host that runs the tests; fall back to PATH.
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
}
