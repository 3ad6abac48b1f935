using System.Diagnostics;
using System.Text;
using Xunit;

namespace Qmig.Wire.Tests.Kaitai;

/// <summary>The outcome of one node run.</summary>
internal sealed record NodeResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}

/// <summary>
/// Runs the Kaitai tooling under tests/kaitai (plain node scripts) from the tests. The toolchain is
/// mandatory: when node or tests/kaitai/node_modules is missing the tests fail, they do not skip.
/// </summary>
internal static class Node
{
    public const string InstallHint = "run ./test.sh, which runs npm ci";

    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The repository root: the first folder above the test binaries that holds Protocol.sln.</summary>
    public static string RepoRoot => Root.Value;

    public static string KaitaiDir => Path.Combine(RepoRoot, "tests", "kaitai");

    public static string SpecDir => Path.Combine(RepoRoot, "spec", "migration");

    public static string DataDir => Path.Combine(RepoRoot, "tests", "data");

    /// <summary>The spec files, as paths relative to the repository root with '/' separators.</summary>
    public static IReadOnlyList<string> SpecFiles() =>
        Directory.GetFiles(SpecDir, "*.ksy")
            .Select(p => Path.GetRelativePath(RepoRoot, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Why the toolchain cannot run, or null when it can: node on PATH and the npm packages
    /// installed from tests/kaitai/package-lock.json.
    /// </summary>
    public static string? ToolchainProblem()
    {
        if (FindExecutable("node") is null)
        {
            return $"node was not found on PATH; {InstallHint}.";
        }

        foreach (var package in new[] { "kaitai-struct-compiler", "kaitai-struct", "js-yaml" })
        {
            if (!File.Exists(Path.Combine(KaitaiDir, "node_modules", package, "package.json")))
            {
                return $"tests/kaitai/node_modules/{package} is missing; {InstallHint}.";
            }
        }

        return null;
    }

    /// <summary>Fails the calling test (never skips it) when the toolchain is missing.</summary>
    public static void RequireToolchain()
    {
        if (ToolchainProblem() is { } problem)
        {
            Assert.Fail(problem);
        }
    }

    /// <summary>
    /// Runs <c>node script args…</c> in tests/kaitai, feeding <paramref name="stdin"/> and
    /// capturing both outputs. A run that exceeds <paramref name="timeout"/> (default 2 minutes) is
    /// killed and fails the test.
    /// </summary>
    public static NodeResult Run(string script, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null)
    {
        RequireToolchain();
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        var start = new ProcessStartInfo(FindExecutable("node")!)
        {
            WorkingDirectory = KaitaiDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Path.Combine(KaitaiDir, script));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        // Read both pipes concurrently so that neither can fill up and block node.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"node {script} did not finish within {limit.TotalSeconds:0} s and was killed.\n{stderr.Result}");
        }

        process.WaitForExit(); // also waits for the redirected streams to reach their end
        return new NodeResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Protocol.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} contains Protocol.sln.");
    }

    private static string? FindExecutable(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }

            if (OperatingSystem.IsWindows() && File.Exists(candidate + ".exe"))
            {
                return candidate + ".exe";
            }
        }

        return null;
    }
}
