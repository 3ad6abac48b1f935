using System.Text.Json;
using Microsoft.Playwright;
using Xunit;

namespace Qmig.Cli.Tests.Report;

/// <summary>
/// <c>qmig report</c> opened in a real browser: no console error or page exception, every chart
/// drawn with data, and the numbers shown equal to what <c>qmig stats --format json</c> says.
/// </summary>
[Collection(nameof(BrowserCollection))]
public sealed class ReportBrowserTests(BrowserFixture browser) : IDisposable
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "data");
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-report-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private async Task<(IPage Page, List<string> Errors)> Open(string html, int height = 1400)
    {
        var page = await browser.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = height } });
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add("console: " + message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add("page error: " + error);
            }
        };
        var requests = new List<string>();
        page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith("file:", StringComparison.Ordinal))
            {
                lock (requests)
                {
                    requests.Add(request.Url);
                }
            }
        };
        await page.GotoAsync(new Uri(html).AbsoluteUri);
        await page.WaitForFunctionAsync("() => window.qmigReport !== undefined || document.readyState === 'complete'");
        Assert.Empty(requests);
        return (page, errors);
    }

    private string Report(params string[] args)
    {
        var html = Path.Combine(_work, "report.html");
        var (code, _, error) = QmigProcess.Run(["report", .. args, "-o", html]);
        Assert.True(code == 0, $"qmig report: {code} {error}");
        return html;
    }

    /// <summary>Every canvas: its Chart.js instance, the sum of its data, and how many pixels it painted.</summary>
    private static async Task<JsonElement> Charts(IPage page) => await page.EvaluateAsync<JsonElement>("""
        () => Array.from(document.querySelectorAll('canvas')).map((canvas) => {
          const chart = Chart.getChart(canvas);
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let painted = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
          const value = (v) => typeof v === 'number' ? v : (v && typeof v.y === 'number' ? 1 : 0);
          return { id: canvas.id, hasChart: chart !== undefined, painted: painted,
            points: chart ? chart.data.datasets.reduce((a, d) => a + d.data.length, 0) : 0,
            sum: chart ? chart.data.datasets.reduce((a, d) => a + d.data.reduce((b, v) => b + value(v), 0), 0) : 0 };
        })
        """);

    private static void AssertEveryChartDrawn(JsonElement charts, int atLeast)
    {
        Assert.True(charts.GetArrayLength() >= atLeast, $"only {charts.GetArrayLength()} charts");
        foreach (var chart in charts.EnumerateArray())
        {
            var id = chart.GetProperty("id").GetString();
            Assert.True(chart.GetProperty("hasChart").GetBoolean(), $"{id}: no Chart.js instance");
            Assert.True(chart.GetProperty("points").GetInt32() > 0 && chart.GetProperty("sum").GetDouble() > 0, $"{id}: no data");
            Assert.True(chart.GetProperty("painted").GetInt32() > 1000, $"{id}: only {chart.GetProperty("painted").GetInt32()} pixels painted");
        }
    }

    private static JsonElement Stats(string path)
    {
        var (code, output, error) = QmigProcess.Run("stats", path, "--format", "json");
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    [Fact]
    public async Task AStreamReportDrawsEveryChartWithTheNumbersOfStats()
    {
        string[] streams = ["pc-64m-running/pc-64m-running.mig", "pc-32m-xbzrle/pc-32m-xbzrle.mig", "pc-32m-postcopy/postcopy-forward.mig", "pc-32m-compress/pc-32m-compress.mig"];
        var paths = streams.Select(s => Path.Combine(Data, s)).ToArray();
        var (page, errors) = await Open(Report(paths));
        await page.WaitForFunctionAsync("() => window.qmigReport !== undefined");
        AssertEveryChartDrawn(await Charts(page), streams.Length * 4);

        var shown = await page.EvaluateAsync<JsonElement>("""
            () => Array.from(document.querySelectorAll('section.stream')).map((section, n) => ({
              file: section.dataset.file,
              rounds: Array.from(section.querySelectorAll('table.rounds tr')).slice(1).map((tr) => Array.from(tr.cells).map((td) => td.textContent)),
              commands: section.querySelectorAll('table.commands tr').length - 1,
              roundChart: Object.fromEntries(Chart.getChart(document.getElementById('rounds-' + n)).data.datasets.map((d) => [d.label, d.data])),
              devices: Chart.getChart(document.getElementById('devices-' + n)).data.datasets[0].data.length,
              blocks: Array.from(section.querySelectorAll('canvas[id^=block-]')).map((c) => {
                const chart = Chart.getChart(c);
                return chart.data.datasets.reduce((a, d) => a + d.sends.reduce((b, v) => b + v, 0), 0);
              }),
            }))
            """);
        Assert.Equal(streams.Length, shown.GetArrayLength());
        foreach (var (section, i) in shown.EnumerateArray().Select((s, i) => (s, i)))
        {
            var stats = Stats(paths[i]);
            var rounds = stats.GetProperty("rounds").EnumerateArray().ToArray();
            var rows = section.GetProperty("rounds").EnumerateArray().ToArray();
            Assert.Equal(rounds.Length, rows.Length);
            string[] columns = ["round", "section", "phase", "offset", "pages", "zero_pages", "normal_pages", "xbzrle_pages", "xbzrle_bytes", "compressed_pages", "mapped_pages"];
            for (var r = 0; r < rounds.Length; r++)
            {
                for (var c = 0; c < columns.Length; c++)
                {
                    var expected = rounds[r].GetProperty(columns[c]);
                    var text = expected.ValueKind == JsonValueKind.String ? expected.GetString()
                        : columns[c] == "offset" ? "0x" + expected.GetInt64().ToString("x") : expected.GetInt64().ToString();
                    Assert.True(text == rows[r][c].GetString(), $"{streams[i]} round {r} {columns[c]}: stats {text}, report {rows[r][c].GetString()}");
                }
            }

            foreach (var (label, key) in new[] { ("zero", "zero_pages"), ("normal", "normal_pages"), ("xbzrle", "xbzrle_pages"), ("compressed", "compressed_pages") })
            {
                var want = rounds.Select(r => r.GetProperty(key).GetInt64()).ToArray();
                if (section.GetProperty("roundChart").TryGetProperty(label, out var drawn))
                {
                    Assert.Equal(want, drawn.EnumerateArray().Select(v => v.GetInt64()).ToArray());
                }
                else
                {
                    Assert.All(want, v => Assert.Equal(0, v));
                }
            }

            var blocks = stats.GetProperty("ram").GetProperty("blocks").EnumerateObject().Select(b => b.Value.GetProperty("pages").GetInt64()).ToArray();
            Assert.Equal(blocks, section.GetProperty("blocks").EnumerateArray().Select(v => v.GetInt64()).ToArray());
            var records = stats.GetProperty("records");
            Assert.Equal(records.TryGetProperty("SECTION_FULL", out var full) ? full.GetInt32() : 0, section.GetProperty("devices").GetInt32());
            Assert.Equal(stats.GetProperty("commands").EnumerateObject().Sum(c => c.Value.GetInt32()), section.GetProperty("commands").GetInt32());
        }

        Assert.Empty(errors);
    }

    [Fact]
    public async Task APostcopyReportDrawsRequestsLatencyAndStatesFromTheStatsAndTheReturnPath()
    {
        var folder = Path.Combine(Data, "pc-32m-postcopy-receive-stats");
        var statsPath = Path.Combine(folder, "receive-stats.json");
        var capture = Path.Combine(folder, "return-path.bin");
        var (page, errors) = await Open(Report("--stats", statsPath, "--return-path", capture));
        await page.WaitForFunctionAsync("() => window.qmigReport !== undefined");
        var charts = await Charts(page);
        AssertEveryChartDrawn(charts, 5);

        var shown = await page.EvaluateAsync<JsonElement>("""
            () => Object.fromEntries(Array.from(document.querySelectorAll('canvas')).map((canvas) => {
              const chart = Chart.getChart(canvas);
              return [canvas.id, { title: chart.options.plugins.title.text, labels: chart.data.labels || [],
                datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })) }];
            }))
            """);
        using var document = JsonDocument.Parse(File.ReadAllBytes(statsPath));
        var stats = document.RootElement;

        // Requests and placements over time: one step per requested page, at the times the stats give.
        var timeline = shown.GetProperty("pc-timeline-0-0").GetProperty("datasets").EnumerateArray().ToArray();
        foreach (var key in new[] { "faulted_s", "placed_s" })
        {
            var times = stats.GetProperty("requested_pages_timeline").GetProperty(key).EnumerateArray().Select(t => t.GetDouble()).Order().ToArray();
            var drawn = Assert.Single(timeline, d => d.GetProperty("label").GetString()!.EndsWith(key, StringComparison.Ordinal));
            Assert.Equal(times, drawn.GetProperty("data").EnumerateArray().Select(p => p.GetProperty("x").GetDouble()).ToArray());
            Assert.Equal(Enumerable.Range(1, times.Length).Select(i => (long)i), drawn.GetProperty("data").EnumerateArray().Select(p => p.GetProperty("y").GetInt64()));
        }

        // Each latency: a histogram whose buckets add up to its count, titled with its p50 and p99.
        foreach (var (name, index) in new[] { ("fault_to_placed_us", 0), ("vcpu_stall_us", 1) })
        {
            var histogram = shown.GetProperty($"pc-hist-0-{index}");
            var distribution = stats.GetProperty(name);
            Assert.Equal(distribution.GetProperty("count").GetInt64(), histogram.GetProperty("datasets")[0].GetProperty("data").EnumerateArray().Sum(v => v.GetInt64()));
            Assert.Contains($"p50 {distribution.GetProperty("p50").GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture)} µs", histogram.GetProperty("title").GetString());
            Assert.Contains($"p99 {distribution.GetProperty("p99").GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture)} µs", histogram.GetProperty("title").GetString());
        }

        // Seconds in each state, as the stats give them.
        var states = shown.GetProperty("pc-states-0");
        var expectedStates = stats.GetProperty("seconds_in_state").EnumerateObject().ToArray();
        Assert.Equal(expectedStates.Select(p => p.Name), states.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(expectedStates.Select(p => p.Value.GetDouble()), states.GetProperty("datasets")[0].GetProperty("data").EnumerateArray().Select(v => v.GetDouble()));

        // The return path: one point per page request message.
        var (code, rpJson, rpError) = QmigProcess.Run("stats", capture, "--return-path", "--format", "json");
        Assert.True(code == 0, rpError);
        var messages = JsonDocument.Parse(rpJson).RootElement.GetProperty("messages");
        var requests = (messages.TryGetProperty("REQ_PAGES", out var plain) ? plain.GetInt32() : 0) + (messages.TryGetProperty("REQ_PAGES_ID", out var withId) ? withId.GetInt32() : 0);
        var alongCapture = Assert.Single(shown.GetProperty("pc-timeline-0-1").GetProperty("datasets").EnumerateArray());
        Assert.Equal(requests, alongCapture.GetProperty("data").GetArrayLength());
        Assert.Empty(errors);
    }

    /// <summary>The README's picture: the report of the bundled XBZRLE stream, whose rounds shrink as the guest's writes are sent as deltas.</summary>
    [Fact]
    public async Task TheReadmeScreenshotIsAReportOfABundledStream()
    {
        var (page, errors) = await Open(Report(Path.Combine(Data, "pc-32m-xbzrle/pc-32m-xbzrle.mig")), 1700);
        await page.WaitForFunctionAsync("() => window.qmigReport !== undefined");
        var screenshot = Path.Combine(AppContext.BaseDirectory, "report.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        Assert.True(new FileInfo(screenshot).Length > 20_000, "the screenshot is nearly empty");
        Assert.Empty(errors);
    }
}
