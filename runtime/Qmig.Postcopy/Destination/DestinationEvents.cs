using System.Net.Sockets;
using Qmig.Wire.Machines;

namespace Qmig.Postcopy.Destination;

/// <summary>The progress lines a destination writes: state changes, channels, pauses and the end.</summary>
internal sealed class DestinationEvents(TextWriter? log)
{
    public void PostcopyState(PostcopyMachine.State from, PostcopyMachine.State to, string what) =>
        log?.WriteLine($"postcopy: {PostcopyMachine.GetQemuName(from)} -> {PostcopyMachine.GetQemuName(to)} ({what})");

    public void Status(MigrationStatusDestinationMachine.State from, MigrationStatusDestinationMachine.State to, string what) =>
        log?.WriteLine($"status: {MigrationStatusDestinationMachine.GetQemuName(from)} -> {MigrationStatusDestinationMachine.GetQemuName(to)} ({what})");

    public void Completed(long pages, int blocks, int devices) =>
        log?.WriteLine($"complete: {pages} pages in {blocks} RAM blocks, {devices} device sections");

    public void PreemptChannelAttached(Socket channel) => log?.WriteLine($"postcopy-preempt channel from {PeerName(channel)}");

    public void PreemptChannelAfterEnd() => log?.WriteLine("postcopy-preempt channel arrived after the migration ended; closed");

    public void UnexpectedPreemptChannel(Socket channel) =>
        log?.WriteLine($"an unexpected second preempt channel from {PeerName(channel)} was closed; the migration goes on");

    public void Paused(long missingPages) =>
        log?.WriteLine($"postcopy-paused: waiting for the source to resume (migrate with resume=true); {missingPages} pages are still on the source");

    public void Resumed(int pagesAskedAgain) => log?.WriteLine($"resumed: {pagesAskedAgain} pages asked for again");

    /// <summary>The peer's address for a log line; a connection handed over through a socket pair (a TLS bridge) has none of its own.</summary>
    public static string PeerName(Socket connection) =>
        connection.RemoteEndPoint?.ToString() is { Length: > 0 } remote ? remote : "a local socket (TLS, or passed in by the caller)";
}
