using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Qmig.Wire.Machines;

namespace Qmig.Postcopy.Destination;

/// <summary>The progress a destination logs: state changes, channels, pauses and the end.</summary>
internal static partial class DestinationLog
{
    public static void PostcopyState(this ILogger logger, PostcopyMachine.State from, PostcopyMachine.State to, string what)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            PostcopyStateChanged(logger, PostcopyMachine.GetQemuName(from), PostcopyMachine.GetQemuName(to), what);
        }
    }

    public static void Status(this ILogger logger, MigrationStatusDestinationMachine.State from, MigrationStatusDestinationMachine.State to, string what)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            StatusChanged(logger, MigrationStatusDestinationMachine.GetQemuName(from), MigrationStatusDestinationMachine.GetQemuName(to), what);
        }
    }

    public static void PreemptChannelAttached(this ILogger logger, Socket channel)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            PreemptChannelFrom(logger, PeerName(channel));
        }
    }

    public static void UnexpectedPreemptChannel(this ILogger logger, Socket channel)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            UnexpectedPreemptChannelClosed(logger, PeerName(channel));
        }
    }

    /// <summary>The peer's address for a log line; a connection handed over through a socket pair (a TLS bridge) has none of its own.</summary>
    public static string PeerName(Socket connection) =>
        connection.RemoteEndPoint?.ToString() is { Length: > 0 } remote ? remote : "a local socket (TLS, or passed in by the caller)";

    [LoggerMessage(Level = LogLevel.Information, Message = "postcopy: {From} -> {To} ({What})")]
    private static partial void PostcopyStateChanged(ILogger logger, string from, string to, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "status: {From} -> {To} ({What})")]
    private static partial void StatusChanged(ILogger logger, string from, string to, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "complete: {Pages} pages in {Blocks} RAM blocks, {Devices} device sections")]
    public static partial void Completed(this ILogger logger, long pages, int blocks, int devices);

    [LoggerMessage(Level = LogLevel.Information, Message = "postcopy-preempt channel from {Peer}")]
    private static partial void PreemptChannelFrom(ILogger logger, string peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "postcopy-preempt channel arrived after the migration ended; closed")]
    public static partial void PreemptChannelAfterEnd(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "an unexpected second preempt channel from {Peer} was closed; the migration goes on")]
    private static partial void UnexpectedPreemptChannelClosed(ILogger logger, string peer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "postcopy-paused: waiting for the source to resume (migrate with resume=true); {MissingPages} pages are still on the source")]
    public static partial void Paused(this ILogger logger, long missingPages);

    [LoggerMessage(Level = LogLevel.Information, Message = "resumed: {Pages} pages asked for again")]
    public static partial void Resumed(this ILogger logger, int pages);
}
