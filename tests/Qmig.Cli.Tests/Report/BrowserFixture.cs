using Microsoft.Playwright;
using Xunit;

namespace Qmig.Cli.Tests.Report;

/// <summary>
/// One headless Debian Chromium for every report test, driven by Playwright without its own browser
/// download. Chromium writes its profile under HOME, which points at a temporary folder here.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly string _home = Directory.CreateTempSubdirectory("qmig-browser-home-").FullName;
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: the report tests need Debian's chromium (apt-get install --no-install-recommends chromium; test.sh installs it)");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Env = new Dictionary<string, string> { ["HOME"] = _home },
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        Directory.Delete(_home, recursive: true);
    }
}

[CollectionDefinition(nameof(BrowserCollection))]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>;
