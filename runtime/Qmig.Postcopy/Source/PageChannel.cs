using System.Buffers;
using System.Diagnostics;
using Qmig.Wire.Writing;

namespace Qmig.Postcopy.Source;

/// <summary>
/// One connection of the source: records are encoded by the generated writers into a buffer that goes to
/// the socket in large writes. A page is copied once, from the guest's memory into that buffer (the record
/// header and the page then leave in the same send). A gather write of header and page would save that copy
/// but needs the page pinned until the send completes and, for a 4 KiB page, a segment list per 4 KiB.
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
        Writer = new MigrationStreamWriter(_buffer, guest.TargetPageSize);
    }

    public bool IsPreempt { get; }

    public MigrationStreamWriter Writer { get; }

    public int Buffered => _buffer.WrittenCount;

    /// <summary>Writes the target pages <c>[firstTargetPage, firstTargetPage + count)</c> of one block, consecutively.</summary>
    public void WritePages(SourceRamBlock block, int blockIndex, long firstTargetPage, int count, PagePhase phase)
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

                Writer.RamPage(block.Name, (ulong)page * pageSize, bytes);
            }

            _stats.CountPage(phase, bytes.IsEmpty);
        }
    }

    /// <summary>Notes that a request's last page is now in the buffer: its latency ends when the buffer reaches the socket.</summary>
    public void RequestServed(long requestTimestamp) => _pendingRequestTimestamps.Add(requestTimestamp);

    /// <summary>Sends what is buffered.</summary>
    /// <exception cref="WriteStalledException">The destination took none or only part of it within the write timeout.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        using (var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            stall.CancelAfter(_writeTimeout);
            try
            {
                if (_buffer.WrittenCount > 0)
                {
                    await _stream.WriteAsync(_buffer.WrittenMemory, stall.Token).ConfigureAwait(false);
                    _stats.CountBytes(IsPreempt, _buffer.WrittenCount);
                    _offset += _buffer.WrittenCount;
                    _buffer.ResetWrittenCount();
                }

                await _stream.FlushAsync(stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new WriteStalledException(IsPreempt, _offset, _buffer.WrittenCount, _writeTimeout, e);
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
}
