using System.Diagnostics;
using System.Net.Sockets;
using Qmig.Linux.Memory;
using Qmig.Wire;
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
    private long _pausedSince;

    private bool CanPause => _options.Recover && _state == PostcopyMachine.State.Running && !_endOfSections;

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
        _sender!.Attach(connection);
        _reader!.ContinueOnResumedChannel();
        MoveStatus(MigrationStatusDestinationMachine.Trigger.Reconnected, $"the source reconnected from {connection.RemoteEndPoint}");
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
