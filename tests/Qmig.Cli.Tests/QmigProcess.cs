using System.Diagnostics;

namespace Qmig.Cli.Tests;

/// <summary>Runs the built qmig.dll as a separate process, exactly as a user would run it.</summary>
internal static class QmigProcess
{
    public static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        using var process = Start(args);
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
    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "qmig.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start qmig");
    }

    // dotnet test sets DOTNET_HOST_PATH to the host that runs the tests; fall back to PATH.
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
}
