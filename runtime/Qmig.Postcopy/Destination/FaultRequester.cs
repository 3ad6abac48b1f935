using Qmig.Linux;
using Qmig.Linux.Machines;
using Qmig.Linux.Memory;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// QEMU's postcopy fault thread: reads userfaults on a thread of its own and turns each fault on a
/// missing page into a page request on the return path, with up to <c>requestAhead</c> following
/// missing pages. A fault on a page already requested only starts its clock; one on a page that
/// arrived meanwhile is woken by the block.
/// </summary>
internal sealed class FaultRequester(Userfaultfd uffd, ReceivedBlocks blocks, PageRequestClocks clocks, DestinationStats stats, int requestAhead)
{
    private Thread? _thread;
    private ReturnPathSender? _sender;
    private CancellationToken _stop;
    private Exception? _error;
    private long _faults;

    /// <summary>What ended the thread, if it failed; checked by the reader thread.</summary>
    public Exception? Error => Volatile.Read(ref _error);

    /// <summary>Starts reading faults (at LISTEN, once every block is registered) until <paramref name="stop"/>.</summary>
    public void Start(ReturnPathSender sender, CancellationToken stop)
    {
        _sender = sender;
        _stop = stop;
        _thread = new Thread(Run) { IsBackground = true, Name = "qmig fault thread" };
        _thread.Start();
    }

    /// <summary>Waits for the thread once its stop token is cancelled.</summary>
    public void Join() => _thread?.Join();

    private void Run()
    {
        var events = new UffdEvent[64];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var count = uffd.ReadEvents(events, 100, _stop);
                for (var i = 0; i < count; i++)
                {
                    if (events[i].Kind != UffdEventKind.PageFault)
                    {
                        continue;
                    }

                    Interlocked.Increment(ref _faults);
                    var address = events[i].Address;
                    var block = blocks.FindByAddress(address)
                        ?? throw new DestinationException($"a fault at 0x{address:x} hit none of the RAM blocks");
                    var outcome = block.HandleFault(address);
                    switch (outcome.Disposition)
                    {
                        case FaultDisposition.RequestPage:
                            RequestFaultedPage(outcome.Block!, outcome.Offset);
                            break;
                        case FaultDisposition.AlreadyRequested:
                            clocks.StartFaultClock(outcome.Block!, outcome.Offset);
                            break;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            Volatile.Write(ref _error, e);
        }
        finally
        {
            stats.Faults = Interlocked.Read(ref _faults);
        }
    }

    /// <summary>
    /// Requests a page a vCPU faulted on (already moved missing → requested), together with up to
    /// <c>requestAhead</c> following pages that are still missing; each of those moves missing →
    /// requested here first, so no other fault asks for it again.
    /// </summary>
    private void RequestFaultedPage(RamBlockMemory block, ulong offset)
    {
        clocks.StartFaultClock(block, offset);
        var pageSize = (ulong)block.PageSize;
        var first = block.PageIndex(offset);
        var pages = 1L;
        while (pages <= requestAhead
            && first + pages < block.PageCount
            && block.States.TryApply(first + pages, PageMachine.Trigger.Fault).Applied)
        {
            clocks.MarkRequestedAhead(block, offset + ((ulong)pages * pageSize));
            pages++;
        }

        stats.PagesRequestedAhead += pages - 1;
        // If the link is broken the request is dropped: the pages stay requested and are asked for
        // again when the source resumes.
        _sender!.RequestPages(block, offset, checked((uint)((ulong)pages * pageSize)));
    }
}
