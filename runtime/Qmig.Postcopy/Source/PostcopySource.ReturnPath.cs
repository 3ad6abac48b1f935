using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Qmig.Linux;
using Qmig.Wire;
using Qmig.Wire.Machines;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Source;

/// <summary>
/// The return path: read on its own task from the first byte sent, because the destination asks for
/// pages while the package is still loading. Framing, types and lengths are checked by
/// <see cref="ReturnPathReader"/>, page requests by <see cref="PageRequestChecker"/>; whatever breaks a
/// rule fails the migration with the message's offset and the rule, and no page outside a block is read.
/// </summary>
public sealed partial class PostcopySource
{
    private const int ReadChunk = 64 << 10;

    /// <summary>
    /// Reads the return path from now on: on a plain socket with <see cref="PolledReceive"/> on a thread of its
    /// own, because .NET's asynchronous receive would wake its event loop and a thread-pool worker each time the
    /// background stream drains the same socket's send buffer; on any other stream asynchronously.
    /// </summary>
    private Task StartReturnPathReader(Stream main, CancellationToken cancellationToken)
    {
        if (PlainSocket.Of(main) is { } socket)
        {
            return Task.Factory.StartNew(
                () => ReadReturnPathAsync((buffer, token) => new ValueTask<int>(PolledReceive.Receive(socket, buffer.Span, token)), cancellationToken),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default).Unwrap();
        }

        return Task.Run(() => ReadReturnPathAsync(main.ReadAsync, cancellationToken), CancellationToken.None);
    }

    private async Task ReadReturnPathAsync(Func<Memory<byte>, CancellationToken, ValueTask<int>> receive, CancellationToken cancellationToken)
    {
        var reader = new ReturnPathReader();
        var checker = new PageRequestChecker(_wireBlocks, _targetPageSize);
        var buffer = new byte[ReadChunk * 2];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        (start, end) = (0, end - start);
                    }
                    else
                    {
                        // One message never exceeds 4 + 65535 bytes, so this stays bounded.
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                }

                var read = await receive(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                end += read;
                var pending = new ReadOnlySequence<byte>(buffer, start, end - start);
                var visitor = new Visitor(this, checker);
                var status = reader.Read(ref pending, isFinalBlock: read == 0, ref visitor);
                start = end - (int)pending.Length;
                if (status == OperationStatus.InvalidData)
                {
                    Fail(ReturnPathFailure(reader.Error!));
                    return;
                }

                if (checker.Error is { } requestError)
                {
                    Fail(ReturnPathFailure(requestError));
                    return;
                }

                if (visitor.Failure is { } failure)
                {
                    Fail(failure);
                    return;
                }

                if (_shut.Task.IsCompleted)
                {
                    return;
                }

                if (read == 0)
                {
                    Fail(Failure($"the destination closed the connection without SHUT (return path at offset 0x{reader.Position:x}){LastStepReached()}"));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Fail(Failure($"reading the return path failed{LastStepReached()}: {e.Message}", e));
        }
    }

    private void OnReturnPathMessage(in RecordInfo record, in RpMessage message, PageRequestChecker checker, ref PostcopySourceException? failure)
    {
        switch (message.MsgType)
        {
            case MigRpMsg.Shut:
                Shut.TryRead(message.Payload, out var shut, out _);
                Stats.ShutStatus = shut.Status;
                Log.ShutReceived(_logger, shut.Status);
                if (shut.Status == 0 && !_endOfStreamSent)
                {
                    failure = ReturnPathFailure(new MigrationError(record.Offset, "rp_message", MigrationRules.MisplacedRecord, "SHUT 0 (success) before the source ended its stream"));
                    return;
                }

                _shut.TrySetResult(shut.Status);
                if (shut.Status != 0)
                {
                    failure = Failure($"the destination failed and said SHUT {shut.Status}{LastStepReached()}");
                }

                return;
            case MigRpMsg.Pong:
                Pong.TryRead(message.Payload, out var pong, out _);
                Volatile.Write(ref _lastPong, pong.Value);
                Log.PongReceived(_logger, pong.Value);
                _firstPong.TrySetResult();
                if (pong.Value == PingPackageLoaded)
                {
                    Stats.PackageLoadedAfter = Stopwatch.GetElapsedTime(_start);
                }

                return;
            case MigRpMsg.ReqPages or MigRpMsg.ReqPagesId:
                if (checker.TryCheck(record, message, out var request))
                {
                    var block = _blocks[request.Block.Index];
                    var hostPageBytes = (ulong)(block.HostPageTargetPages * _targetPageSize);
                    var first = (long)(request.Start / hostPageBytes) * block.HostPageTargetPages;
                    var end = (long)((request.Start + request.Length + hostPageBytes - 1) / hostPageBytes) * block.HostPageTargetPages;
                    _requests.Writer.TryWrite(new PendingRequest(request.Block.Index, first, end, Stopwatch.GetTimestamp()));
                }

                return;
            case MigRpMsg.SwitchoverAck:
                // Answers the switchover-ack capability; this source does not wait for it.
                return;
            default:
                failure = ReturnPathFailure(new MigrationError(record.Offset, "rp_message", MigrationRules.MisplacedRecord,
                    $"{message.MsgType.ToQemuName()} belongs to a postcopy recovery, which this source never started"));
                return;
        }
    }

    /// <summary>Records a failure (the first one wins) and stops every task of the migration.</summary>
    private void Fail(Exception failure)
    {
        if (Interlocked.CompareExchange(ref _failure, failure, null) is null)
        {
            _abort?.Cancel();
        }
    }

    private PostcopySourceException ReturnPathFailure(MigrationError error) =>
        new($"{error.Format("return path")}", Status, Stats.PagesSent, GuestLoaded, error);

    private PostcopySourceException Failure(string message, Exception? inner = null) =>
        new(message, Status, Stats.PagesSent, GuestLoaded, inner: inner);

    private bool GuestLoaded => Stats.PackageLoadedAfter is not null;

    /// <summary>What the destination accepted before it closed, told by its last PONG, and so what it most likely refused.</summary>
    private string LastStepReached()
    {
        if (_endOfStreamSent)
        {
            return " after the end of the stream";
        }

        return Volatile.Read(ref _lastPong) switch
        {
            -1 => " before it answered the first PING: it refused the header or the configuration (machine type, target page size, capabilities)",
            PingReturnPathOpen => " after it opened the return path, at POSTCOPY_ADVISE: postcopy-ram is off on the destination (set it with migrate-set-capabilities before the migration) or its page sizes differ",
            PingAdvised => " at the RAM block list: the destination's RAM blocks differ from the guest's (machine type, -m, memory backends, ROMs)",
            PingBlockListLoaded => " before the device state was loaded: a device of the destination differs from the guest's, or it refused a discard",
            _ => string.Empty,
        };
    }

    /// <summary>The exception the caller gets: the failure with the status and pages sent.</summary>
    private PostcopySourceException Describe(Exception failure)
    {
        var status = Status;
        var pages = Stats.PagesSent;
        return failure switch
        {
            PostcopySourceException known => new PostcopySourceException(
                $"{known.Message} (status {MigrationStatusSourceMachine.GetQemuName(status)}, {pages} pages sent)", status, pages, GuestLoaded, known.ReturnPathError, known.InnerException),
            TimeoutException => new PostcopySourceException(
                $"no SHUT from the destination within {_options.ShutTimeout.TotalSeconds:0} s after the end of the stream (status {MigrationStatusSourceMachine.GetQemuName(status)}, {pages} pages sent)", status, pages, GuestLoaded, inner: failure),
            WriteStalledException => new PostcopySourceException(
                $"{failure.Message} (status {MigrationStatusSourceMachine.GetQemuName(status)}, {pages} pages sent)", status, pages, GuestLoaded, inner: failure),
            IOException or SocketException or ObjectDisposedException => new PostcopySourceException(
                $"writing to the destination failed{LastStepReached()}: {failure.Message} (status {MigrationStatusSourceMachine.GetQemuName(status)}, {pages} pages sent)", status, pages, GuestLoaded, inner: failure),
            OperationCanceledException => new PostcopySourceException(
                $"the migration was cancelled (status {MigrationStatusSourceMachine.GetQemuName(status)}, {pages} pages sent)", status, pages, GuestLoaded, inner: failure),
            _ => new PostcopySourceException(
                $"{failure.Message} (status {MigrationStatusSourceMachine.GetQemuName(status)}, {pages} pages sent)", status, pages, GuestLoaded, inner: failure),
        };
    }

    private struct Visitor(PostcopySource source, PageRequestChecker checker) : IReturnPathVisitor
    {
        public PostcopySourceException? Failure { get; private set; }

        public void OnMessage(in RecordInfo record, in RpMessage message)
        {
            if (Failure is not null)
            {
                return;
            }

            PostcopySourceException? failure = null;
            source.OnReturnPathMessage(record, message, checker, ref failure);
            Failure = failure;
        }

        public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob) =>
            Failure ??= source.ReturnPathFailure(new MigrationError(record.Offset, "recv_bitmap_blob", MigrationRules.MisplacedRecord, "a received bitmap outside a postcopy recovery"));
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "status {From} -> {To} ({What})")]
        public static partial void StatusChanged(ILogger logger, string from, string to, string what);

        [LoggerMessage(Level = LogLevel.Information, Message = "precopy sent {Pages} pages in {Rounds} rounds")]
        public static partial void PrecopyDone(ILogger logger, long pages, int rounds);

        [LoggerMessage(Level = LogLevel.Information, Message = "postcopy started after {PrecopyPages} precopy pages; {DiscardedPages} pages discarded")]
        public static partial void PostcopyStarted(ILogger logger, long precopyPages, long discardedPages);

        [LoggerMessage(Level = LogLevel.Debug, Message = "request {Block} page {Page} +{Count}: {Sent}")]
        public static partial void RequestServed(ILogger logger, string block, long page, long count, bool sent);

        [LoggerMessage(Level = LogLevel.Debug, Message = "PONG {Value}")]
        public static partial void PongReceived(ILogger logger, uint value);

        [LoggerMessage(Level = LogLevel.Information, Message = "SHUT {Status}")]
        public static partial void ShutReceived(ILogger logger, uint status);

        [LoggerMessage(Level = LogLevel.Information, Message = "end of stream sent after {Pages} pages")]
        public static partial void StreamEnded(ILogger logger, long pages);

        [LoggerMessage(Level = LogLevel.Error, Message = "migration failed: {Reason}")]
        public static partial void MigrationFailed(ILogger logger, string reason);
    }
}
