using System.Diagnostics;
using System.Text;
using Xunit;

namespace Qmig.Cli.Tests.Proxy;

/// <summary>
/// <c>qmig proxy</c> as its own process, listening on a Unix socket in the test's directory (so no
/// port can be taken in between) and forwarding to a destination QEMU's address.
/// </summary>
internal sealed class ProxyProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly Task _reading;

    public ProxyProcess(string work, string to, params string[] extra)
    {
        ListenPath = Path.Combine(work, "proxy.sock");
        _process = QmigProcess.Start(["proxy", "--listen", "unix:" + ListenPath, "--to", to, .. extra]);
        _reading = Task.Run(async () =>
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(line);
                }
            }
        });
        // The socket's file appears at bind(), before listen(): a source that connected then would be
        // refused. The proxy says it listens only once it does.
        var deadline = Stopwatch.StartNew();
        while (!Stderr.Contains("qmig: listening on", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited, "qmig proxy did not start listening: " + Stderr);
            Thread.Sleep(20);
        }
    }

    public string ListenPath { get; }

    /// <summary>The migration URI for the source's <c>migrate</c>.</summary>
    public string Uri => "unix:" + ListenPath;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Waits for the proxy to exit by itself; returns its exit code and everything it wrote to stderr.</summary>
    public (int ExitCode, string Stderr) WaitForExit(TimeSpan timeout)
    {
        Assert.True(_process.WaitForExit(timeout), "qmig proxy did not exit: " + Stderr);
        _reading.Wait(TimeSpan.FromSeconds(10));
        return (_process.ExitCode, Stderr);
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago, for a destination QEMU to listen on.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
