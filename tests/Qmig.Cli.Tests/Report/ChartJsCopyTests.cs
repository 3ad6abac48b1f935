using Xunit;

namespace Qmig.Cli.Tests.Report;

/// <summary>
/// qmig report inlines a committed copy of Chart.js (so that building qmig needs no npm); it must
/// be the pinned npm package's file byte for byte, with the package's licence beside it.
/// </summary>
public class ChartJsCopyTests
{
    private static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Protocol.sln")))
            {
                return Path.Combine(dir.FullName, "tools", "Qmig.Cli", "Report", "chartjs");
            }
        }

        throw new InvalidOperationException("the tests do not run inside the repository: no Protocol.sln above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void TheInlinedChartJsIsThePinnedNpmPackagesFile()
    {
        var folder = Folder();
        var package = Path.Combine(folder, "node_modules", "chart.js");
        Assert.True(Directory.Exists(package), $"{package} is missing: run npm ci --prefix tools/Qmig.Cli/Report/chartjs (test.sh does)");
        Assert.Contains("\"version\": \"4.6.2\"", File.ReadAllText(Path.Combine(package, "package.json")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(package, "dist", "chart.umd.min.js")), File.ReadAllBytes(Path.Combine(folder, "chart.umd.min.js")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(package, "LICENSE.md")), File.ReadAllBytes(Path.Combine(folder, "LICENSE.md")));
    }
}
