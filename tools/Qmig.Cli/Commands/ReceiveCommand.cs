using System.CommandLine;
using System.Net;
using Qmig.Cli.Output;
using Qmig.Postcopy;
using Qmig.Postcopy.Destination;
using Qmig.Postcopy.Tls;
using Command = System.CommandLine.Command;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>qmig receive --listen tcp:HOST:PORT -o OUT.mig</c>: the destination of a (postcopy) migration
/// from a real QEMU, written out as a precopy stream that a fresh QEMU loads with -incoming.
/// </summary>
internal static class ReceiveCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "Where to accept the source's connection: tcp:HOST:PORT", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the received guest as a precopy stream", Required = true };
        var touch = new Option<string>("--touch") { Description = "What the stand-in guest does after POSTCOPY_RUN: none, sequential or random", DefaultValueFactory = _ => "sequential" };
        touch.AcceptOnlyFromAmong("none", "sequential", "random");
        var threads = new Option<int>("--threads") { Description = "Stand-in vCPU threads for --touch", DefaultValueFactory = _ => 2 };
        var requestAhead = new Option<int>("--request-ahead") { Description = "Request up to N following missing pages with each faulting page (0: only the page, as QEMU does)", DefaultValueFactory = _ => 0 };
        requestAhead.Validators.Add(r =>
        {
            if (r.GetValue(requestAhead) is < 0 or > 4096)
            {
                r.AddError("--request-ahead must be between 0 and 4096 pages");
            }
        });
        var postcopyPreempt = new Option<bool>("--postcopy-preempt") { Description = "Accept the source's second connection as its postcopy-preempt channel (QEMU capability postcopy-preempt on both sides)" };
        var recover = new Option<bool>("--recover") { Description = "If the connection breaks during postcopy, wait on --listen for the source to resume (migrate with resume=true) instead of failing" };
        var stats = new Option<FileInfo?>("--stats") { Description = "Write pages by phase, faults, fault-to-placed latency, the stand-in vCPUs' stalls, bytes and time per postcopy state as JSON" };
        var returnPathLog = new Option<FileInfo?>("--return-path-log") { Description = "Also write every return-path byte sent to this file (read it with --return-path)" };
        var maxGuestRam = CommonOptions.ByteCount("--max-guest-ram", "The most guest RAM a source may announce (e.g. 64G); more fails before anything is mapped. Default: this machine's physical memory");
        var stallTimeout = new Option<double>("--stall-timeout") { Description = "Seconds the source may send nothing before postcopy starts before the migration is given up (0: wait forever); after LISTEN it is always waited for", DefaultValueFactory = _ => 60 };
        stallTimeout.Validators.Add(r =>
        {
            if (r.GetValue(stallTimeout) < 0)
            {
                r.AddError("--stall-timeout must be 0 or more seconds");
            }
        });
        var tls = TlsOptions.ForAccepting();
        var command = new Command("receive", "Be the destination of a live migration from a real QEMU (postcopy included)") { listen, output, touch, threads, requestAhead, postcopyPreempt, recover, stats, returnPathLog, maxGuestRam, stallTimeout };
        foreach (var option in tls.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(result => Cli.Guard(result.InvocationConfiguration.Error, () => Run(
            result,
            tls,
            result.GetValue(listen)!,
            result.GetValue(output)!,
            Enum.Parse<TouchWorkload>(result.GetValue(touch)!, ignoreCase: true),
            result.GetValue(threads),
            result.GetValue(requestAhead),
            result.GetValue(postcopyPreempt),
            result.GetValue(recover),
            result.GetValue(stats),
            result.GetValue(returnPathLog),
            result.GetValue(maxGuestRam),
            result.GetValue(stallTimeout))));
        return command;
    }

    private static int Run(ParseResult parsed, TlsOptions tlsOptions, string listen, FileInfo output, TouchWorkload touch, int threads, int requestAhead, bool postcopyPreempt, bool recover, FileInfo? statsFile, FileInfo? returnPathLogFile, long? maxGuestRam, double stallSeconds)
    {
        if (!MigrationAddress.TryParse(listen, out var address, out var problem) || address is not IPEndPoint endpoint)
        {
            Console.Error.WriteLine($"qmig: --listen: {problem ?? $"receive listens on tcp:HOST:PORT, not '{listen}'"}");
            return ExitCodes.UsageOrIo;
        }

        if (!tlsOptions.TryLoad(parsed, MigrationTlsEndpoint.Server, Console.Error, out var tls))
        {
            return ExitCodes.UsageOrIo;
        }

        using var tlsCredentials = tls;
        var handshakeLimit = stallSeconds == 0 ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(stallSeconds);
        var partial = output.FullName + ".partial";
        using var returnPathLog = returnPathLogFile is null ? null : new FileStream(returnPathLogFile.FullName, FileMode.Create, FileAccess.Write);
        PostcopyDestination destination;
        try
        {
            var options = new DestinationOptions
            {
                OnPostcopyRun = StandInGuest.OnPostcopyRun(touch, threads),
                RequestAhead = requestAhead,
                Recover = recover,
                ReturnPathLog = returnPathLog,
                StallTimeout = stallSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(stallSeconds),
                MaxGuestRam = maxGuestRam ?? DestinationOptions.DefaultMaxGuestRam,
            };
            destination = new PostcopyDestination(options, new WriterLogger<PostcopyDestination>(Console.Error));
        }
        catch (NotSupportedException e)
        {
            // The kernel refused a userfaultfd: the message says which refusal and how to fix it.
            Console.Error.WriteLine($"qmig: userfaultfd is not available, so postcopy cannot be received: {e.Message}");
            return ExitCodes.Unsupported;
        }

        using (destination)
        {
            try
            {
                using (var listener = DestinationListener.Listen(endpoint, tls, handshakeLimit, new WriterLogger<DestinationListener>(Console.Error, "qmig: ")))
                {
                    Console.Error.WriteLine($"qmig: listening on {MigrationAddress.Format(listener.LocalEndPoint)}{(tls is null ? "" : " (TLS)")}");
                    listener.ReceiveInto(destination, postcopyPreempt);
                }

                using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                {
                    destination.WritePrecopyStream(file);
                }

                File.Move(partial, output.FullName, overwrite: true);
                Console.Error.WriteLine($"qmig: wrote {output.FullName}");
                return ExitCodes.Ok;
            }
            catch (MigrationTlsException e)
            {
                Console.Error.WriteLine($"qmig: {e.Message}; no guest memory was touched");
                return ExitCodes.MigrationFailed;
            }
            catch (DestinationException e)
            {
                File.Delete(partial);
                Console.Error.WriteLine($"qmig: {e.Message}");
                return ExitCodes.MigrationFailed;
            }
            finally
            {
                if (statsFile is not null)
                {
                    File.WriteAllText(statsFile.FullName, System.Text.Json.JsonSerializer.Serialize(ReceiveStatsDocument.Of(destination.Stats), CliJson.Default.ReceiveStatsDocument));
                }
            }
        }
    }
}
