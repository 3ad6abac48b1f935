using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Qmig.Linux;
using Qmig.Wire.Writing;

namespace Qmig.Postcopy.Source;

/// <summary>
/// One connection of the source: records are encoded by the generated writers into a buffer that goes to
/// the connection in large writes. On a plain socket the pages themselves do not go through that buffer:
/// a page's record is written without the page, and the flush sends, in order, the buffer's bytes and the
/// pages, gathered in one sendmsg from where they are: the guest's own memory when its pages stay in
/// place, else the staging memory runs are read into. On TLS or any other stream each page is copied into
/// the buffer and leaves with its header in the same write.
/// </summary>
internal sealed class PageChannel
{
    /// <summary>Past this many buffered bytes the channel is flushed.</summary>
    public const int FlushThreshold = 256 << 10;

    private readonly Stream _stream;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold + (64 << 10));
    private readonly byte[] _scratch;
    private readonly IMigrationGuest _guest;
    private readonly PostcopySourceStats _stats;
    private readonly List<long> _pendingRequestTimestamps = [];
    private readonly TimeSpan _writeTimeout;
    private readonly Socket? _gatherSocket;

    /// <summary>What goes on the wire after the buffer's first <c>BufferEnd</c> bytes: pages in memory, in order.</summary>
    private readonly List<PendingPiece> _pieces = [];
    private int _pieceBytes;
    private GatherSegment[] _segments = [];

    /// <summary>
    /// Runs of pages read from the guest (<see cref="IMigrationGuest.ReadPages"/>), pinned so that a gathered
    /// send can point into it; the first <see cref="_stagingUsed"/> bytes wait for the next flush.
    /// </summary>
    private readonly byte[] _staging;
    private readonly bool[] _zero;
    private int _stagingUsed;
    private long _offset;

    /// <param name="stream">The connection the records go out on: the main stream or the postcopy-preempt channel.</param>
    /// <param name="guest">Where the pages are read from.</param>
    /// <param name="stats">Where the pages sent, the bytes and the request latencies are counted.</param>
    /// <param name="isPreempt">Whether this is the postcopy-preempt channel.</param>
    /// <param name="writeTimeout">How long one write may wait for the destination to take its bytes; <see cref="Timeout.InfiniteTimeSpan"/> for ever.</param>
    public PageChannel(Stream stream, IMigrationGuest guest, PostcopySourceStats stats, bool isPreempt, TimeSpan writeTimeout)
    {
        _stream = stream;
        _guest = guest;
        _stats = stats;
        _writeTimeout = writeTimeout;
        IsPreempt = isPreempt;
        _scratch = new byte[guest.TargetPageSize];
        // Twice the flush threshold: a run that starts just below it fits, and so does the largest host page.
        var largestHostPage = guest.RamBlocks.Count == 0 ? 0 : guest.RamBlocks.Max(b => b.PageSize);
        _staging = GC.AllocateUninitializedArray<byte>((2 * FlushThreshold) + largestHostPage, pinned: true);
        _zero = new bool[_staging.Length / guest.TargetPageSize];
        Writer = new MigrationStreamWriter(_buffer, guest.TargetPageSize);
        _gatherSocket = PlainSocket.Of(stream);
    }

    public bool IsPreempt { get; }

    public MigrationStreamWriter Writer { get; }

    /// <summary>Bytes waiting for the next flush, pages sent apart included.</summary>
    public int Buffered => _buffer.WrittenCount + _pieceBytes;

    /// <summary>Writes the target pages <c>[firstTargetPage, firstTargetPage + count)</c> of one block, consecutively.</summary>
    public void WritePages(SourceRamBlock block, int blockIndex, long firstTargetPage, int count, PagePhase phase)
    {
        if (_guest.PagesStayInPlace)
        {
            WritePagesInPlace(block, blockIndex, firstTargetPage, count, phase);
        }
        else
        {
            WritePagesStaged(block, blockIndex, firstTargetPage, count, phase);
        }
    }

    private void AddPiece(PendingPiece piece)
    {
        _pieces.Add(piece);
        _pieceBytes += piece.Length;
    }

    /// <summary>Page by page from the guest's own memory: gathered from there on a plain socket, else copied into the buffer.</summary>
    private unsafe void WritePagesInPlace(SourceRamBlock block, int blockIndex, long firstTargetPage, int count, PagePhase phase)
    {
        var pageSize = (ulong)_guest.TargetPageSize;
        for (var i = 0; i < count; i++)
        {
            var page = firstTargetPage + i;
            var bytes = _guest.ReadPage(blockIndex, page, _scratch);
            if (bytes.IsEmpty)
            {
                Writer.RamZero(block.Name, (ulong)page * pageSize);
            }
            else
            {
                if (bytes.Length != _guest.TargetPageSize)
                {
                    throw new InvalidOperationException($"the guest returned {bytes.Length} bytes for page {page} of '{block.NameText}', not {_guest.TargetPageSize}");
                }

                if (_gatherSocket is not null && !bytes.Overlaps(_scratch))
                {
                    Writer.RamPageWithoutBytes(block.Name, (ulong)page * pageSize);
                    AddPiece(new PendingPiece(_buffer.WrittenCount, (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes)), bytes.Length));
                    _stats.CountPageSentInPlace();
                }
                else
                {
                    Writer.RamPage(block.Name, (ulong)page * pageSize, bytes);
                }
            }

            _stats.CountPage(phase, bytes.IsEmpty);
        }
    }

    /// <summary>
    /// The run read at once (<see cref="IMigrationGuest.ReadPages"/>) into the staging memory: gathered from
    /// there on a plain socket (the staging is kept until the flush), else copied into the buffer (and reused).
    /// </summary>
    private unsafe void WritePagesStaged(SourceRamBlock block, int blockIndex, long firstTargetPage, int count, PagePhase phase)
    {
        var pageSize = _guest.TargetPageSize;
        var bytes = count * pageSize;
        var keep = _gatherSocket is not null && _stagingUsed + bytes <= _staging.Length;
        // Without room left (requests queued behind a full staging), a run goes through a copy like on TLS.
        var region = keep || _gatherSocket is null ? _staging.AsSpan(_stagingUsed, bytes) : new byte[bytes];
        var zero = count <= _zero.Length ? _zero.AsSpan(0, count) : new bool[count];
        _guest.ReadPages(blockIndex, firstTargetPage, region, zero);
        for (var i = 0; i < count; i++)
        {
            var offset = (ulong)(firstTargetPage + i) * (ulong)pageSize;
            if (zero[i])
            {
                Writer.RamZero(block.Name, offset);
            }
            else if (keep)
            {
                Writer.RamPageWithoutBytes(block.Name, offset);
                AddPiece(new PendingPiece(_buffer.WrittenCount, (nint)Unsafe.AsPointer(ref region[i * pageSize]), pageSize));
            }
            else
            {
                Writer.RamPage(block.Name, offset, region.Slice(i * pageSize, pageSize));
            }

            _stats.CountPage(phase, zero[i]);
        }

        if (keep)
        {
            _stagingUsed += bytes;
        }
    }

    /// <summary>Notes that a request's last page is now in the buffer: its latency ends when the buffer reaches the socket.</summary>
    public void RequestServed(long requestTimestamp) => _pendingRequestTimestamps.Add(requestTimestamp);

    /// <summary>Sends what is buffered.</summary>
    /// <exception cref="WriteStalledException">The destination took none or only part of it within the write timeout.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_gatherSocket is not null)
        {
            // Every write of a plain socket goes this way, so .NET never waits on it and never registers it with its event loop.
            try
            {
                SendPieces(cancellationToken);
            }
            catch (TimeoutException e)
            {
                throw new WriteStalledException(IsPreempt, _offset, Buffered, _writeTimeout, e);
            }
        }
        else
        {
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stall.CancelAfter(_writeTimeout);
            try
            {
                if (_buffer.WrittenCount > 0)
                {
                    await _stream.WriteAsync(_buffer.WrittenMemory, stall.Token).ConfigureAwait(false);
                    Sent(_buffer.WrittenCount);
                }

                await _stream.FlushAsync(stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new WriteStalledException(IsPreempt, _offset, Buffered, _writeTimeout, e);
            }
        }

        if (_pendingRequestTimestamps.Count > 0)
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var timestamp in _pendingRequestTimestamps)
            {
                _stats.AddLatency(now - timestamp);
            }

            _pendingRequestTimestamps.Clear();
        }
    }

    /// <summary>
    /// The buffer's bytes and the pieces between them, in order, gathered into sendmsg calls. Sending a saved
    /// stream's runs of page records straight from its file with sendfile costs this process less, but
    /// measured against a QEMU destination on one host it slowed the destination's load by 15 to 20%.
    /// </summary>
    private unsafe void SendPieces(CancellationToken cancellationToken)
    {
        if (Buffered == 0)
        {
            return;
        }

        var needed = (2 * _pieces.Count) + 1;
        if (_segments.Length < needed)
        {
            _segments = new GatherSegment[needed];
        }

        var total = Buffered;
        try
        {
            fixed (byte* buffer = _buffer.WrittenSpan)
            {
                var count = 0;
                var from = 0;
                foreach (var piece in _pieces)
                {
                    _segments[count++] = new GatherSegment((nint)(buffer + from), (nuint)(piece.BufferEnd - from));
                    from = piece.BufferEnd;
                    _segments[count++] = new GatherSegment(piece.Memory, (nuint)piece.Length);
                }

                _segments[count++] = new GatherSegment((nint)(buffer + from), (nuint)(_buffer.WrittenCount - from));
                GatheredSend.SendAll(_gatherSocket!, _segments.AsSpan(0, count), _writeTimeout, cancellationToken);
            }
        }
        catch (SocketException e)
        {
            // As NetworkStream reports it, so the engine tells a closed connection the same way on both paths.
            throw new IOException($"Unable to write data to the transport connection: {e.Message}", e);
        }

        Sent(total);
    }

    private void Sent(int bytes)
    {
        _stats.CountBytes(IsPreempt, bytes);
        _offset += bytes;
        _buffer.ResetWrittenCount();
        _pieces.Clear();
        _pieceBytes = 0;
        _stagingUsed = 0;
    }

    /// <summary><see cref="Length"/> bytes at <see cref="Memory"/>, which go on the wire after the buffer's first <see cref="BufferEnd"/> bytes.</summary>
    private readonly record struct PendingPiece(int BufferEnd, nint Memory, int Length);
}
