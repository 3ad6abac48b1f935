using System.Net.Sockets;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>
/// The source's main connection as the receive loop uses it, whatever carries it: the migration is
/// read from it, the return path is written to it, and any thread can end a read blocked on it
/// (cancellation, or a break another thread noticed). It owns nothing of the caller's: disposing it
/// leaves the socket or stream open.
/// </summary>
internal abstract class MainConnection : IDisposable
{
    /// <summary>How the peer is named in the log.</summary>
    public abstract string Peer { get; }

    /// <summary>
    /// Reads once into <paramref name="window"/>, blocking until something comes; returns the bytes
    /// read, 0 at the end of the stream.
    /// </summary>
    /// <param name="window">Where the bytes go.</param>
    /// <param name="timeout">How long to wait for the first byte; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <exception cref="TimeoutException">Nothing came within <paramref name="timeout"/>.</exception>
    public abstract int ReadInto(InputWindow window, TimeSpan timeout);

    /// <summary>Writes <paramref name="bytes"/> whole (a return-path message), so that it goes out now.</summary>
    public abstract void Write(ReadOnlySpan<byte> bytes);

    /// <summary>Ends a read blocked on the connection, from any thread; later reads end at once.</summary>
    public abstract void EndReads();

    public virtual void Dispose()
    {
    }

    /// <summary>
    /// A socket, or a <see cref="NetworkStream"/> read as its socket: blocking reads straight into the
    /// window, a receive timeout, and shutting the socket down for receiving to end a read.
    /// </summary>
    public static MainConnection Of(Socket socket) => new SocketConnection(socket, new NetworkStream(socket, ownsSocket: false));

    /// <summary>
    /// Any duplex stream; a <see cref="NetworkStream"/> is read as its socket. Other streams are read
    /// with a cancellation token that ending reads (or the read timeout) cancels, since a blocked read
    /// on an arbitrary stream can be ended by nothing else it is sure to honour.
    /// </summary>
    public static MainConnection Of(Stream stream) => stream is NetworkStream network
        ? new SocketConnection(network.Socket, network)
        : new StreamConnection(stream);

    private sealed class SocketConnection(Socket socket, NetworkStream stream) : MainConnection
    {
        public override string Peer => DestinationLog.PeerName(socket);

        public override int ReadInto(InputWindow window, TimeSpan timeout)
        {
            socket.ReceiveTimeout = timeout == Timeout.InfiniteTimeSpan ? 0 : (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
            try
            {
                return window.ReceiveFrom(socket);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                throw new TimeoutException($"nothing came for {timeout.TotalSeconds:0.#} s", e);
            }
        }

        public override void Write(ReadOnlySpan<byte> bytes) => stream.Write(bytes);

        public override void EndReads()
        {
            try
            {
                socket.Shutdown(SocketShutdown.Receive);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already closed: the read has ended anyway.
            }
        }
    }

    /// <summary>
    /// Reads through <see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/> with a token of
    /// its own, waited for on the reading thread without allocating when the stream's read completes
    /// through a reusable source (as a socket's does); the bytes land in the window directly.
    /// </summary>
    private sealed class StreamConnection : MainConnection
    {
        private readonly Stream _stream;
        private CancellationTokenSource _reads = new();
        private readonly ManualResetEventSlim _arrived = new();
        private readonly Action _signalArrived;
        private readonly CancellableReads _reader;
        private int _ended;

        public StreamConnection(Stream stream)
        {
            _stream = stream;
            _signalArrived = _arrived.Set;
            _reader = new CancellableReads(this);
        }

        public override string Peer => $"a {_stream.GetType().Name} passed in by the caller";

        public override int ReadInto(InputWindow window, TimeSpan timeout)
        {
            _reader.Timeout = timeout;
            return window.ReadFrom(_reader);
        }

        public override void Write(ReadOnlySpan<byte> bytes)
        {
            _stream.Write(bytes);
            _stream.Flush();
        }

        public override void EndReads()
        {
            Volatile.Write(ref _ended, 1);
            try
            {
                Volatile.Read(ref _reads).Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The receive on this connection is over: no read is left to end.
            }
        }

        public override void Dispose()
        {
            _reads.Dispose();
            _arrived.Dispose();
        }

        private int Read(Memory<byte> into, TimeSpan timeout)
        {
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                _reads.CancelAfter(timeout);
            }

            try
            {
                var pending = _stream.ReadAsync(into, _reads.Token);
                if (!pending.IsCompleted)
                {
                    _arrived.Reset();
                    pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_signalArrived);
                    _arrived.Wait();
                }

                return pending.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException e) when (Volatile.Read(ref _ended) != 0)
            {
                throw new IOException("reading the connection was ended", e);
            }
            catch (OperationCanceledException e) when (timeout != Timeout.InfiniteTimeSpan)
            {
                throw new TimeoutException($"nothing came for {timeout.TotalSeconds:0.#} s", e);
            }
            catch (OperationCanceledException e)
            {
                // Nothing here asked for it: to the receive loop it is a failed read, like any other.
                throw new IOException($"the {_stream.GetType().Name} canceled a read by itself", e);
            }
            finally
            {
                if (timeout != Timeout.InfiniteTimeSpan)
                {
                    Disarm();
                }
            }
        }

        /// <summary>
        /// Stops the read timeout's timer. If it fired as the read completed, the token is spent and
        /// would end the next read: a fresh one takes its place, canceled at once if reads were
        /// ended meanwhile (<see cref="EndReads"/> marks before it cancels, so one of the two sees the other).
        /// </summary>
        private void Disarm()
        {
            _reads.CancelAfter(Timeout.InfiniteTimeSpan);
            if (!_reads.IsCancellationRequested)
            {
                return;
            }

            var spent = _reads;
            Volatile.Write(ref _reads, new CancellationTokenSource());
            spent.Dispose();
            if (Volatile.Read(ref _ended) != 0)
            {
                _reads.Cancel();
            }
        }

        /// <summary>What <see cref="InputWindow.ReadFrom"/> reads: the connection's reads, nothing else.</summary>
        private sealed class CancellableReads(StreamConnection connection) : Stream
        {
            public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count) => connection.Read(buffer.AsMemory(offset, count), Timeout);

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
