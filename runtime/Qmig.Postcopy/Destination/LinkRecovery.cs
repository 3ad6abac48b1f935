using System.Diagnostics;
using Qmig.Linux.Machines;
using Qmig.Linux.Memory;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// Postcopy recovery (QEMU 3.0+): when the link breaks in postcopy the destination does not give
/// up the guest, whose pages partly exist only on the source. It waits in postcopy-paused; the
/// source, told <c>migrate</c> with <c>resume=true</c>, connects again and sends, without a header,
/// RECV_BITMAP for each RAM block (answered with the bitmap of pages received here, so that it
/// sends the others again) and POSTCOPY_RESUME (answered with RESUME_ACK, after which the pages
/// still wanted are asked for again), then goes on with postcopy.
/// </summary>
/// <remarks>
/// This type keeps which connection is the link and the first break any thread noticed on it; the
/// reader thread decides between pausing and failing.
/// </remarks>
internal sealed class LinkRecovery(ReceivedBlocks blocks, Func<bool> readingPackage)
{
    private readonly Lock _gate = new();
    private long _pausedSince;

    /// <summary>The main connection now in use; a break of it or of its preempt channel is a break of the link.</summary>
    private MainConnection? _connection;

    /// <summary>Counts main connections, so a preempt channel of an earlier one that breaks late is not taken for a break of the current one.</summary>
    private int _generation;

    /// <summary>The first break of the current connection that a send or the preempt channel noticed, whichever thread saw it.</summary>
    private Exception? _linkError;

    public Exception? LinkError => Volatile.Read(ref _linkError);

    public int Generation
    {
        get
        {
            lock (_gate)
            {
                return _generation;
            }
        }
    }

    /// <summary>The connection the reader thread now reads.</summary>
    public void Use(MainConnection connection)
    {
        lock (_gate)
        {
            _connection = connection;
        }
    }

    /// <summary>
    /// A return-path send failed. If the reader thread may be blocked in a read that the broken link
    /// would never end, the read is ended here. Inside the package (LISTENING) the reader thread is
    /// the one that sent, and it must read on to the package's RUN.
    /// </summary>
    public void OnReturnPathBroken(MainConnection connection, Exception error)
    {
        lock (_gate)
        {
            _linkError ??= error;
            if (!readingPackage())
            {
                connection.EndReads();
            }
        }
    }

    /// <summary>The preempt channel of connection <paramref name="generation"/> broke: the source has lost the link, which it pauses as a whole.</summary>
    public void OnPreemptChannelBroken(int generation, Exception error)
    {
        lock (_gate)
        {
            if (generation != _generation || _connection is null)
            {
                return;
            }

            _linkError ??= error;
            if (!readingPackage())
            {
                _connection.EndReads();
            }
        }
    }

    public void Paused() => _pausedSince = Stopwatch.GetTimestamp();

    /// <summary>The source came back: a new connection generation with no break yet; returns the seconds paused.</summary>
    public double Resumed()
    {
        lock (_gate)
        {
            _generation++;
            _linkError = null;
        }

        return Stopwatch.GetElapsedTime(_pausedSince).TotalSeconds;
    }

    /// <summary>Asks again for every page a vCPU (or request-ahead) still waits for; returns how many pages.</summary>
    public int RequestAgain(ReturnPathSender sender)
    {
        var again = 0;
        foreach (var (_, memory) in blocks.All)
        {
            again += RequestAgain(sender, memory);
        }

        return again;
    }

    /// <summary>Sends one request per run of pages still in the requested state; returns how many pages.</summary>
    private static int RequestAgain(ReturnPathSender sender, RamBlockMemory memory)
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

            sender.RequestPages(memory, (ulong)first * pageSize, checked((uint)((ulong)(page - first) * pageSize)));
            pages += (int)(page - first);
        }

        return pages;
    }
}
