using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Qmig.TestSupport;

namespace Qmig.Cli.Tests.Receive;

/// <summary><c>qmig receive</c> as its own process, listening on a free loopback port.</summary>
internal sealed class ReceiverProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly ManualResetEventSlim _listening = new();

    public ReceiverProcess(params string[] extra)
    {
        Port = Loopback.FreePort();
        _process = QmigProcess.Start(["receive", "--listen", $"tcp:127.0.0.1:{Port}", .. extra]);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }

            if (e.Data.Contains("listening on", StringComparison.Ordinal))
            {
                _listening.Set();
            }
        };
        _process.BeginErrorReadLine();
        _ = _process.StandardOutput.ReadToEndAsync();
        if (!_listening.Wait(TimeSpan.FromSeconds(60)))
        {
            _process.Kill();
            throw new TimeoutException($"qmig receive did not start listening: {Stderr}");
        }
    }

    public int Port { get; }

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

    /// <summary>Waits for qmig to exit; null when it is still running after the timeout.</summary>
    public int? WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return null;
        }

        _process.WaitForExit(); // drains the stderr events
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        _listening.Dispose();
    }

}
