using System.Diagnostics;
using Qmig.TestSupport;
using Xunit;

namespace Qmig.Cli.Tests;

/// <summary>
/// qmig as a .NET tool: installed from the package test.sh packs into artifacts/packages, with that
/// folder as the only source, it is the same build as the qmig these tests run and reads a stream.
/// </summary>
public sealed class ToolPackageTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-tool-").FullName;

    [Fact]
    public async Task TheToolPackageInstallsTheSameQmigThatReadsABundledStream()
    {
        var feed = Path.Combine(Repository.Root, "artifacts", "packages");
        Assert.True(File.Exists(Path.Combine(feed, "qmig.1.0.0.nupkg")), $"no qmig tool package in {feed}: ./test.sh packs it (dotnet pack tools/Qmig.Cli -c Release -o artifacts/packages)");
        var config = Path.Combine(_work, "nuget.config");
        File.WriteAllText(config, $"""<configuration><packageSources><clear /><add key="qmig" value="{feed}" /></packageSources></configuration>""");
        var tools = Path.Combine(_work, "tools");
        var install = new ProcessStartInfo("dotnet", ["tool", "install", "qmig", "--version", "1.0.0", "--tool-path", tools, "--configfile", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // A cache of its own: the machine-wide one may hold an older qmig 1.0.0.
        install.Environment["NUGET_PACKAGES"] = Path.Combine(_work, "packages");
        using (var installing = Process.Start(install)!)
        {
            var said = installing.StandardOutput.ReadToEndAsync();
            var errors = installing.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await installing.WaitForExitAsync(limit.Token);
            Assert.True(installing.ExitCode == 0, $"dotnet tool install failed: {await said}{await errors}");
        }

        var installed = Path.Combine(tools, "qmig");
        var (toolExit, toolVersion, toolError) = QmigProcess.RunExecutable(installed, "--version");
        var (exit, version, _) = QmigProcess.Run("--version");
        Assert.True(toolExit == 0 && exit == 0, $"--version: the tool exited {toolExit} ({toolError}), the tests' qmig {exit}");
        Assert.Equal(version.Trim(), toolVersion.Trim());

        var stream = Path.Combine(AppContext.BaseDirectory, "data", "pc-64m-running", "pc-64m-running.mig");
        var (statsExit, stats, statsError) = QmigProcess.RunExecutable(installed, "stats", stream);
        Assert.True(statsExit == 0, $"the installed qmig's stats exited {statsExit}: {statsError}");
        Assert.Contains("pc.ram                       used_length 0x4000000", stats, StringComparison.Ordinal);
    }


    public void Dispose() => Directory.Delete(_work, recursive: true);
}
