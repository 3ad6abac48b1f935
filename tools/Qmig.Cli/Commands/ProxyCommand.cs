using System.CommandLine;
using Qmig.Postcopy;
using System.Net;
using System.Text.Json;
using Qmig.Cli.Output;
using Qmig.Postcopy.Proxy;
using Command = System.CommandLine.Command;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>qmig proxy --listen ADDR --to ADDR</c>: stands between a migrating QEMU and its destination,
/// forwards every byte unchanged and shows what passes. The engine is <see cref="MigrationProxy"/>;
/// this parses options and renders the live line and the final figures.
/// </summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = $"Where the source migrates to: {MigrationAddress.Forms}", Required = true };
        var to = new Option<string>("--to") { Description = $"The destination's -incoming address: {MigrationAddress.Forms}", Required = true };
        var recoverTo = new Option<string?>("--recover-to") { Description = "Where a source resuming a paused postcopy is connected to (the destination's migrate-recover address); default: --to" };
        var record = new Option<DirectoryInfo?>("--record") { Description = "Write each channel and direction to its own file in DIR (main-forward.mig, main-return.bin, preempt-forward.mig, ...) with per-chunk timestamps in chunks.jsonl" };
        var live = new Option<bool>("--live") { Description = "Print a status line every second (state, round, pages/s, pending requests, request latency) when stderr is a terminal" };
        var stats = new Option<FileInfo?>("--stats") { Description = "Write the final figures as JSON" };
        var strict = new Option<bool>("--strict") { Description = "End the migration (close both sides) when a stream fails to decode, instead of forwarding it on" };
        var command = new Command("proxy", "Forward a live migration between two QEMUs unchanged, decoding every channel as it passes") { listen, to, recoverTo, record, live, stats, strict };
        command.SetAction(result => Cli.Guard(result.InvocationConfiguration.Error, () => Run(
            result.InvocationConfiguration.Error,
            result.GetValue(listen)!,
            result.GetValue(to)!,
            result.GetValue(recoverTo),
            result.GetValue(record),
            result.GetValue(live),
            result.GetValue(stats),
            result.GetValue(strict))));
        return command;
    }

    private static int Run(TextWriter errors, string listen, string to, string? recoverTo, DirectoryInfo? record, bool live, FileInfo? statsFile, bool strict)
    {
        if (!MigrationAddress.TryParse(listen, out var listenAddress, out var problem))
        {
            errors.WriteLine($"qmig: --listen: {problem}");
            return ExitCodes.UsageOrIo;
        }

        if (!MigrationAddress.TryParse(to, out var destination, out problem) || destination is IPEndPoint { Port: 0 })
        {
            errors.WriteLine($"qmig: --to: {problem ?? $"'{to}' needs a port other than 0"}");
            return ExitCodes.UsageOrIo;
        }

        EndPoint? recover = null;
        if (recoverTo is not null && (!MigrationAddress.TryParse(recoverTo, out recover, out problem) || recover is IPEndPoint { Port: 0 }))
        {
            errors.WriteLine($"qmig: --recover-to: {problem ?? $"'{recoverTo}' needs a port other than 0"}");
            return ExitCodes.UsageOrIo;
        }

        var options = new ProxyOptions
        {
            Destination = destination,
            RecoverDestination = recover,
            RecordDirectory = record?.FullName,
            Strict = strict,
            Log = errors,
        };
        MigrationProxy listening;
        try
        {
            listening = new MigrationProxy(MigrationTransport.Listen(listenAddress), options);
        }
        catch (IOException e)
        {
            errors.WriteLine($"qmig: {e.Message}");
            return ExitCodes.UsageOrIo;
        }

        using var proxy = listening;
        errors.WriteLine($"qmig: listening on {MigrationAddress.Format(proxy.LocalEndPoint)}, forwarding to {to}");
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler cancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += cancel;
        using var status = live && !Console.IsErrorRedirected ? new LiveStatus(proxy, errors) : null;
        ProxyOutcome outcome;
        try
        {
            outcome = proxy.Run(stop.Token);
        }
        finally
        {
            Console.CancelKeyPress -= cancel;
            status?.Dispose();
        }

        var figures = proxy.Figures;
        if (statsFile is not null)
        {
            File.WriteAllText(statsFile.FullName, StatsJson(outcome, proxy.FailureMessage, figures));
        }

        errors.WriteLine($"qmig: {Summary(figures)}");
        switch (outcome)
        {
            case ProxyOutcome.Failed:
                errors.WriteLine($"qmig: {proxy.FailureMessage}");
                return ExitCodes.MigrationFailed;
            case ProxyOutcome.Cancelled:
                errors.WriteLine("qmig: stopped before the migration ended");
                return ExitCodes.MigrationFailed;
            default:
                return figures.DecodeErrors.Count > 0 ? ExitCodes.Invalid : ExitCodes.Ok;
        }
    }

    private static string Summary(ProxyFigures f) =>
        $"{f.PostcopyState}, {f.Rounds} precopy rounds, {f.NormalPages} pages and {f.ZeroPages} zero pages ({f.PreemptPages} on the preempt channel), " +
        $"{f.PageRequests} page requests ({f.PendingRequests} unanswered)" +
        (f.LatencyP50 is { } p50 ? $", request-to-page p50 {p50:0} us p99 {f.LatencyP99:0} us" : "") +
        (f.Resumes > 0 ? $", resumed {f.Resumes} times" : "") +
        (f.DecodeErrors.Count > 0 ? $", {f.DecodeErrors.Count} decode errors" : "");

    internal static string StatsJson(ProxyOutcome outcome, string? failure, ProxyFigures f) =>
        JsonSerializer.Serialize(ProxyStatsDocument.Of(outcome, failure, f), CliJson.Default.ProxyStatsDocument) + "\n";

    /// <summary>Rewrites one status line on the terminal every second until disposed.</summary>
    private sealed class LiveStatus : IDisposable
    {
        private readonly MigrationProxy _proxy;
        private readonly TextWriter _terminal;
        private readonly Timer _timer;
        private readonly object _lock = new();
        private long _lastPages;
        private double _lastSeconds;

        public LiveStatus(MigrationProxy proxy, TextWriter terminal)
        {
            _proxy = proxy;
            _terminal = terminal;
            _timer = new Timer(_ => Print(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }

        private void Print()
        {
            lock (_lock)
            {
                var f = _proxy.Figures;
                var pages = f.NormalPages + f.ZeroPages + f.XbzrlePages + f.CompressedPages;
                var rate = f.Seconds > _lastSeconds ? (pages - _lastPages) / (f.Seconds - _lastSeconds) : 0;
                (_lastPages, _lastSeconds) = (pages, f.Seconds);
                var latency = f.LatencyP50 is { } p50 ? $"p50 {p50:0} us p99 {f.LatencyP99:0} us" : "no answered requests";
                _terminal.Write($"\r\x1b[K{f.PostcopyState} round {f.Rounds} {rate:0} pages/s {f.PendingRequests} pending, {latency}");
                _terminal.Flush();
            }
        }

        public void Dispose()
        {
            _timer.Dispose();
            lock (_lock)
            {
                _terminal.WriteLine();
            }
        }
    }
}
