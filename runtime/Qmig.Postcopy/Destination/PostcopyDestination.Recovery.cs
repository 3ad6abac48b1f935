using System.Diagnostics;
using System.Net.Sockets;
using Qmig.Linux.Memory;
using Qmig.Wire;
using Qmig.Linux.Machines;
using Qmig.Wire.Machines;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Postcopy recovery (QEMU 3.0+): when the link breaks in postcopy the destination does not give
/// up the guest, whose pages partly exist only on the source. It waits in postcopy-paused; the
/// source, told <c>migrate</c> with <c>resume=true</c>, connects again and sends, without a header,
/// RECV_BITMAP for each RAM block (answered with the bitmap of pages received here, so that it
/// sends the others again) and POSTCOPY_RESUME (answered with RESUME_ACK, after which the pages
/// still wanted are asked for again), then goes on with postcopy.
/// </summary>
public sealed partial class PostcopyDestination
{
    private readonly Lock _linkGate = new();
    private long _pausedSince;

    /// <summary>The main connection now in use; a break of it or of its preempt channel is a break of the link.</summary>
    private Socket? _connection;

    /// <summary>Counts main connections, so a preempt channel of an earlier one that breaks late is not taken for a break of the current one.</summary>
    private int _connectionGeneration;

    /// <summary>The first break of the current connection that a send or the preempt channel noticed, whichever thread saw it.</summary>
    private Exception? _linkError;

    private Exception? LinkError => Volatile.Read(ref _linkError);

    /// <summary>
    /// QEMU's destination pauses from postcopy-active, which LISTEN enters; a pause needs the package
    /// whole, though (its RUN and device state come only once), and that holds from RUN on.
    /// </summary>
    private bool CanPause => _options.Recover && _state == PostcopyMachine.State.Running && !_endOfSections;

    /// <summary>
    /// A return-path send failed. The reader thread decides between pausing and failing; if it may be
    /// blocked in a read that the broken link would never end, the read is ended here. Inside the
    /// package (LISTENING) the reader thread is the one that sent, and it must read on to the package's RUN.
    /// </summary>
    private void OnReturnPathBroken(Socket connection, Exception error)
    {
        lock (_linkGate)
        {
            _linkError ??= error;
            if (_state != PostcopyMachine.State.Listening)
            {
                EndReads(connection);
            }
        }
    }

    /// <summary>The preempt channel of connection <paramref name="generation"/> broke: the source has lost the link, which it pauses as a whole.</summary>
    private void OnPreemptChannelBroken(int generation, Exception error)
    {
        lock (_linkGate)
        {
            if (generation != _connectionGeneration || _connection is null)
            {
                return;
            }

            _linkError ??= error;
            if (_state != PostcopyMachine.State.Listening)
            {
                EndReads(_connection);
            }
        }
    }

    private static void EndReads(Socket connection)
    {
        try
        {
            connection.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: the read has ended anyway.
        }
    }

    private ReceiveOutcome Pause(string why)
    {
        _sender!.Detach();
        FlushBackgroundRun();
        // A huge page in progress starts afresh: the source sends again whatever was not placed.
        _mainAssembly.Reset();
        MoveStatus(MigrationStatusDestinationMachine.Trigger.LinkLost, why);
        _pausedSince = Stopwatch.GetTimestamp();
        Stats.Pauses++;
        _options.Log?.WriteLine($"postcopy-paused: waiting for the source to resume (migrate with resume=true); {MissingPages()} pages are still on the source");
        return ReceiveOutcome.Paused;
    }

    private void ContinueOnResumedConnection(Socket connection)
    {
        Stats.SecondsPaused += Stopwatch.GetElapsedTime(_pausedSince).TotalSeconds;
        lock (_linkGate)
        {
            _connectionGeneration++;
            _linkError = null;
        }

        _sender!.Attach(connection);
        _reader!.ContinueOnResumedChannel();
        MoveStatus(MigrationStatusDestinationMachine.Trigger.Reconnected, $"the source reconnected from {PeerName(connection)}");
    }

    /// <summary>RECV_BITMAP: which pages of the block are here, as the source rebuilds its dirty bitmap from it.</summary>
    private void AnswerRecvBitmap(in RecordInfo record, in Command command)
    {
        if (!InStatus(MigrationStatusDestinationMachine.State.PostcopyRecover))
        {
            throw Lost($"RECV_BITMAP at offset {record.Offset} outside a postcopy recovery (migration status {MigrationStatusDestinationMachine.GetQemuName(_status)})");
        }

        command.TryReadPayloadAsRecvBitmap(out var request, out _, out _);
        var name = System.Text.Encoding.UTF8.GetString(request.BlockName);
        var block = _blocks.FirstOrDefault(b => b.Wire.Name == name).Memory
            ?? throw Lost($"RECV_BITMAP asks for RAM block '{name}', which the block list did not announce");
        _sender!.RecvBitmap(block, Environment.SystemPageSize);
    }

    /// <summary>POSTCOPY_RESUME: acknowledge, then ask again for every page a vCPU (or request-ahead) still waits for.</summary>
    private void AnswerResume(in RecordInfo record)
    {
        MoveStatus(MigrationStatusDestinationMachine.Trigger.PostcopyResume, $"POSTCOPY_RESUME at offset {record.Offset}");
        _sender!.ResumeAck(1);
        _sender.ReleaseRequests();
        var again = 0;
        foreach (var (_, memory) in _blocks)
        {
            again += RequestAgain(memory);
        }

        _options.Log?.WriteLine($"resumed: {again} pages asked for again");
    }

    /// <summary>Sends one request per run of pages still in the requested state; returns how many pages.</summary>
    private int RequestAgain(RamBlockMemory memory)
    {
        var pages = 0;
        var pageSize = (ulong)memory.PageSize;
        for (long page = 0; page < memory.PageCount;)
        {
            if (memory.States.Get(page) != PageMachine.State.Requested)
            {
                page++;
                continue;
            }

            var first = page;
            while (page < memory.PageCount && page - first < 256 && memory.States.Get(page) == PageMachine.State.Requested)
            {
                page++;
            }

            _sender!.RequestPages(memory, (ulong)first * pageSize, checked((uint)((ulong)(page - first) * pageSize)));
            pages += (int)(page - first);
        }

        return pages;
    }
}
