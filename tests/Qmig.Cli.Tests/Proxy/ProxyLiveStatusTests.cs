using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Qmig.Cli.Tests.Proxy;

/// <summary>
/// <c>qmig proxy --live</c> on a terminal (a pseudo-terminal from util-linux's <c>script</c>)
/// rewrites a status line every second; and a destination that refuses the first connection ends
/// the proxy with exit code 4 and says where it could not connect.
/// </summary>
public sealed class ProxyLiveStatusTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-proxy-live-").FullName;

    [Fact]
    public async Task LiveStatusLineOnATerminalAndARefusingDestinationEndsTheProxy()
    {
        var socketPath = Path.Combine(_work, "proxy.sock");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
        var qmig = Path.Combine(AppContext.BaseDirectory, "qmig.dll");
        // Port 1 on loopback: nothing listens there, so the proxy's connection is refused.
        var commandLine = $"'{host}' '{qmig}' proxy --listen 'unix:{socketPath}' --to tcp:127.0.0.1:1 --live";
        var start = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-qec", commandLine, "/dev/null"])
        {
            start.ArgumentList.Add(arg);
        }

        using var script = Process.Start(start) ?? throw new InvalidOperationException("could not start script (util-linux)");
        var terminal = new StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await script.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (terminal)
                {
                    terminal.Append(buffer, 0, read);
                }
            }
        });
        string Seen()
        {
            lock (terminal)
            {
                return terminal.ToString();
            }
        }

        var deadline = Stopwatch.StartNew();
        while (!Seen().Contains("pages/s", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30) && !script.HasExited, "no status line on the terminal: " + Seen());
            Thread.Sleep(50);
        }

        using (var source = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            source.Connect(new UnixDomainSocketEndPoint(socketPath));
            Assert.True(script.WaitForExit(30_000), "qmig proxy did not exit after the destination refused: " + Seen());
        }

        await reading.WaitAsync(TimeSpan.FromSeconds(10));
        var output = Seen();
        Assert.Contains("\x1b[KPOSTCOPY_INCOMING_NONE round 0 0 pages/s 0 pending, no answered requests", output, StringComparison.Ordinal);
        Assert.Contains("cannot connect to the destination at 127.0.0.1:1", output, StringComparison.Ordinal);
        Assert.Equal(4, script.ExitCode);
        Assert.False(File.Exists(socketPath), "the proxy left its Unix socket behind");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
