using System.Net.Security;
using System.Net.Sockets;
using Qmig.Linux;

namespace Qmig.Postcopy.Tls;

/// <summary>
/// Gives code written for a plain <see cref="Socket"/> a TLS session: returns one end of a socket
/// pair and moves bytes between the other end and the <see cref="SslStream"/>, decrypting towards
/// the socket and encrypting away from it. A destination's further connections need it: they are
/// told apart by peeking at their first plaintext bytes (<see cref="Destination.IncomingConnection"/>), which an
/// <see cref="SslStream"/> cannot do, and a preempt channel is then read as a socket. The main
/// connection does not: the destination reads its <see cref="SslStream"/> directly.
/// </summary>
/// <remarks>
/// Each direction copies one buffer at a time and waits for the write before reading again, so
/// back-pressure holds end to end. The TLS peer closing shows as end of stream on the socket; a
/// failure on either side closes both, which the user of the socket sees as a broken connection.
/// Closing the returned socket ends the session (with a TLS close_notify) and releases everything.
/// </remarks>
public static class TlsSocketBridge
{
    private const int ChunkBytes = 256 << 10;

    /// <summary>Starts moving bytes and returns the socket to use in place of the TLS connection.</summary>
    public static Socket Open(SslStream tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        var (exposed, inner) = SocketPair.Create();
        var session = new Session(tls, inner);
        _ = session.RunAsync();
        return exposed;
    }

    private sealed class Session(SslStream tls, Socket inner)
    {
        private int _closed;

        public async Task RunAsync()
        {
            await Task.WhenAll(Task.Run(DecryptAsync), Task.Run(EncryptAsync)).ConfigureAwait(false);
            await tls.DisposeAsync().ConfigureAwait(false);
            inner.Dispose();
        }

        /// <summary>TLS peer to socket.</summary>
        private async Task DecryptAsync()
        {
            var buffer = new byte[ChunkBytes];
            try
            {
                while (true)
                {
                    var read = await tls.ReadAsync(buffer).ConfigureAwait(false);
                    if (read == 0)
                    {
                        inner.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    for (var sent = 0; sent < read;)
                    {
                        sent += await inner.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                Close();
            }
        }

        /// <summary>Socket to TLS peer.</summary>
        private async Task EncryptAsync()
        {
            var buffer = new byte[ChunkBytes];
            try
            {
                while (true)
                {
                    var read = await inner.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                    if (read == 0)
                    {
                        await tls.ShutdownAsync().ConfigureAwait(false);
                        Close();
                        return;
                    }

                    await tls.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                    await tls.FlushAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                Close();
            }
        }

        /// <summary>Ends both directions: the other copy loop's pending read or write fails and it stops.</summary>
        private void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                try
                {
                    inner.Shutdown(SocketShutdown.Both);
                }
                catch (SocketException)
                {
                    // Already shut.
                }

                tls.Dispose();
            }
        }
    }
}
