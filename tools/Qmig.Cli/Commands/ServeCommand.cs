using System.CommandLine;
using System.Net;
using System.Text.Json;
using Qmig.Cli.Output;
using Qmig.Postcopy;
using Qmig.Postcopy.Source;
using Qmig.Postcopy.Tls;
using Qmig.Wire.Extraction;
using Qmig.Wire.Machines;
using Qmig.Wire.Streaming;
using Command = System.CommandLine.Command;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>qmig serve SNAPSHOT --to tcp:HOST:PORT|unix:PATH</c>: migrates a saved guest into a waiting QEMU
/// (<c>-incoming</c>, postcopy-ram on) with postcopy, so the guest runs there as soon as its devices are
/// loaded and its pages follow on demand. The engine is <see cref="PostcopySource"/>; this only parses
/// options and renders what happens.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var snapshot = new Argument<FileInfo>("SNAPSHOT") { Description = "A saved migration stream: a QEMU file: or exec: save, a mapped-ram file, a libvirt save image, or receive's OUT.mig" };
        var to = new Option<string>("--to") { Description = "The waiting destination: tcp:HOST:PORT or unix:PATH (its -incoming address)", Required = true };
        var precopySeconds = new Option<double>("--precopy-seconds") { Description = "Send pages for S seconds before switching to postcopy (default 0: switch at once)", DefaultValueFactory = _ => 0 };
        precopySeconds.Validators.Add(r =>
        {
            if (r.GetValue(precopySeconds) is < 0 or > 3600)
            {
                r.AddError("--precopy-seconds must be between 0 and 3600");
            }
        });
        var preempt = new Option<bool>("--postcopy-preempt") { Description = "Send requested pages on a second connection (postcopy-preempt must be on at the destination too)" };
        var bandwidth = CommonOptions.Size("--max-bandwidth", "Bytes per second for background pages (K/M/G suffixes); requested pages are never held back. Default: no limit");
        var stats = new Option<FileInfo?>("--stats") { Description = "Write pages by phase, requests, request-to-sent latency and time in each status as JSON" };
        var offset = CommonOptions.Offset();
        var index = new Option<FileInfo?>("--index")
        {
            Description = "Keep the page index of a precopy SNAPSHOT in FILE: loaded from it when it was made from this same file, else built and written there, so that later serves skip the pass over the snapshot",
        };
        var writeTimeout = new Option<double>("--write-timeout") { Description = "Fail when the destination takes no write for S seconds (it hangs or its host is gone); 0 waits for ever. Default 30", DefaultValueFactory = _ => 30 };
        writeTimeout.Validators.Add(r =>
        {
            if (r.GetValue(writeTimeout) is < 0 or > 86400)
            {
                r.AddError("--write-timeout must be between 0 and 86400");
            }
        });
        var fromMapping = new Option<bool>("--send-from-mapping")
        {
            Description = "Send pages straight from the snapshot's mapping, with no copy in qmig (the kernel copies them from the page cache into the socket). By default runs of pages are read into qmig's memory first, which was faster where it was measured (README)",
        };
        var tls = TlsOptions.ForConnecting();
        var command = new Command("serve", "Migrate a saved guest into a waiting QEMU with postcopy: it runs at once, its pages follow on demand") { snapshot, to, precopySeconds, preempt, bandwidth, stats, offset, index, writeTimeout, fromMapping };
        foreach (var option in tls.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(result => Cli.Guard(result.InvocationConfiguration.Error, () => Run(
            result,
            tls,
            result.GetValue(snapshot)!,
            result.GetValue(to)!,
            result.GetValue(precopySeconds),
            result.GetValue(preempt),
            result.GetValue(bandwidth) ?? 0,
            result.GetValue(stats),
            result.GetValue(offset),
            result.GetValue(index),
            result.GetValue(writeTimeout),
            result.GetValue(fromMapping))));
        return command;
    }

    private static int Run(ParseResult parsed, TlsOptions tlsOptions, FileInfo snapshot, string to, double precopySeconds, bool preempt, long bandwidth, FileInfo? statsFile, long? offset, FileInfo? indexFile, double writeTimeoutSeconds, bool sendFromMapping)
    {
        if (!MigrationAddress.TryParse(to, out var address, out var problem) || address is IPEndPoint { Port: 0 })
        {
            Console.Error.WriteLine($"qmig: --to: {problem ?? $"'{to}' needs a port other than 0"}");
            return ExitCodes.UsageOrIo;
        }

        if (!tlsOptions.TryLoad(parsed, MigrationTlsEndpoint.Client, Console.Error, out var tls))
        {
            return ExitCodes.UsageOrIo;
        }

        using var tlsCredentials = tls;
        // As QEMU's source: tls-hostname, else the host the URI names.
        var tlsHostname = tlsOptions.Hostname(parsed) ?? MigrationAddress.HostOf(to);
        if (tls is not null && tlsHostname is null)
        {
            Console.Error.WriteLine("qmig: --tls-hostname is needed with a unix: destination: the name its certificate must carry");
            return ExitCodes.UsageOrIo;
        }

        SavedStreamGuest guest;
        try
        {
            guest = SavedStreamGuest.Open(snapshot.FullName, new SavedStreamOptions { StartOffset = offset, IndexFile = indexFile?.FullName });
        }
        catch (MigrationFormatException e)
        {
            Console.Error.WriteLine(e.Error.Format(snapshot.Name));
            return e.Error.IsUnsupported ? ExitCodes.Unsupported : ExitCodes.Invalid;
        }

        using (guest)
        {
            guest.PagesStayInPlace = sendFromMapping;
            if (indexFile is not null)
            {
                Console.Error.WriteLine(IndexReport(guest.Stream.Index, indexFile.Name));
            }

            var requirements = DestinationRequirements(guest);
            Console.Error.Write(requirements);
            var source = new PostcopySource(guest, new PostcopySourceOptions
            {
                PrecopyDuration = TimeSpan.FromSeconds(precopySeconds),
                MaxBandwidth = bandwidth,
                Preempt = preempt,
                WriteTimeout = writeTimeoutSeconds > 0 ? TimeSpan.FromSeconds(writeTimeoutSeconds) : Timeout.InfiniteTimeSpan,
            });
            Stream main;
            try
            {
                main = MigrationTransport.ConnectAsync(address, tls, tlsHostname).GetAwaiter().GetResult();
            }
            catch (MigrationTlsException e)
            {
                Console.Error.WriteLine($"qmig: {e.Message}; nothing of the guest was sent");
                return ExitCodes.MigrationFailed;
            }

            using var mainStream = main;
            Console.Error.WriteLine($"qmig: connected to {to}{(tls is null ? "" : $" (TLS, the destination's certificate is valid for {tlsHostname})")}");
            using var progress = new ServeProgress(source.Stats);
            try
            {
                var result = source.MigrateAsync(main, preempt ? _ => new ValueTask<Stream>(MigrationTransport.ConnectAsync(address, tls, tlsHostname)) : null)
                    .GetAwaiter().GetResult();
                progress.Dispose();
                Console.Error.WriteLine($"qmig: completed: {result.PagesSent} pages ({result.PrecopyPages} precopy, {result.RequestedPages} requested, {result.BackgroundPages} background), {result.Requests} requests; the destination said SHUT 0");
                return ExitCodes.Ok;
            }
            catch (MigrationTlsException e)
            {
                progress.Dispose();
                Console.Error.WriteLine($"qmig: the migration failed: the preempt channel: {e.Message}");
                return ExitCodes.MigrationFailed;
            }
            catch (PostcopySourceException e)
            {
                progress.Dispose();
                Console.Error.WriteLine($"qmig: the migration failed: {e.Message}");
                Console.Error.WriteLine("qmig: the destination's own log (its stderr, or error-desc in its query-migrate) has its reason");
                if (!e.GuestLoaded)
                {
                    Console.Error.Write("qmig: the destination stopped before it loaded the guest; check that it matches:\n" + requirements);
                }

                return ExitCodes.MigrationFailed;
            }
            finally
            {
                if (statsFile is not null)
                {
                    File.WriteAllText(statsFile.FullName, StatsJson(source.Stats));
                }
            }
        }
    }

    /// <summary>What the destination QEMU must be started with for this guest.</summary>
    /// <summary>One line on what became of --index: a user who expected a fast start learns why it was not.</summary>
    private static string IndexReport(SavedStreamIndexStatus index, string file) => index switch
    {
        { Source: SavedStreamIndexSource.IndexFile } => $"qmig: page index loaded from {file}",
        { Source: SavedStreamIndexSource.MappedRamBitmaps } => $"qmig: --index {file} not used: a mapped-ram snapshot's bitmaps are its index",
        { Saved: true } => $"qmig: page index built and kept in {file} (not loaded from it: {index.NotLoadedBecause})",
        _ => $"qmig: page index built; {file} not used ({index.NotLoadedBecause}) and not written ({index.NotSavedBecause})",
    };

    private static string DestinationRequirements(SavedStreamGuest guest)
    {
        var text = new System.Text.StringBuilder();
        text.Append($"qmig: the destination must run machine type {guest.MachineType ?? "(not recorded in the stream)"} with these RAM blocks:\n");
        foreach (var block in guest.RamBlocks)
        {
            var pageSize = block.PageSize == guest.TargetPageSize ? string.Empty : $", {block.PageSize >> 10} KiB pages";
            text.Append($"  {block.IdStr}: {FormatSize(block.UsedLength)} (0x{block.UsedLength:x} bytes{pageSize})\n");
        }

        text.Append("  and postcopy-ram on (migrate-set-capabilities) before it accepts the connection\n");
        return text.ToString();
    }

    private static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} bytes",
    };

    private static string StatsJson(PostcopySourceStats stats) =>
        JsonSerializer.Serialize(ServeStatsDocument.Of(stats), CliJson.Default.ServeStatsDocument) + "\n";

    /// <summary>A progress line while serving, only on a terminal.</summary>
    private sealed class ServeProgress : IDisposable
    {
        private readonly Timer? _timer;
        private int _drawn;

        public ServeProgress(PostcopySourceStats stats)
        {
            if (Console.IsErrorRedirected)
            {
                return;
            }

            _timer = new Timer(_ =>
            {
                var line = $"\r{MigrationStatusSourceMachine.GetQemuName(stats.Status)}: {stats.PagesSent} / {stats.TotalPages} pages, {stats.Requests} requests   ";
                Console.Error.Write(line);
                Interlocked.Exchange(ref _drawn, 1);
            }, null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        }

        public void Dispose()
        {
            if (_timer is not null)
            {
                _timer.Dispose();
                if (Interlocked.Exchange(ref _drawn, 0) == 1)
                {
                    Console.Error.Write("\r" + new string(' ', 70) + "\r");
                }
            }
        }
    }
}
