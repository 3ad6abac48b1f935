using System.Net;
using System.Net.Sockets;
using Qmig.Postcopy.Tls;

namespace Qmig.Postcopy;

/// <summary>
/// The connections a migration endpoint opens (sockets), for a <see cref="MigrationAddress"/> of either form: a
/// listener for a destination or a proxy, a connection for a source or a proxy, with Nagle off on
/// TCP (a requested page must not wait for more bytes to join it), and a source's connection wrapped
/// in TLS the way QEMU's is when credentials are given.
/// </summary>
public static class MigrationTransport
{
    /// <summary>A socket bound to <paramref name="endpoint"/> (TCP, or a Unix socket path, which must not exist) and listening.</summary>
    /// <exception cref="IOException">The address cannot be bound (in use, no permission, a path that exists); the message says which.</exception>
    public static Socket Listen(EndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = NewSocket(endpoint);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(8);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"cannot listen on {MigrationAddress.Format(endpoint)}: {e.Message}", e);
        }
    }

    /// <summary>A socket connected to <paramref name="endpoint"/>.</summary>
    /// <exception cref="SocketException">Nobody accepts there.</exception>
    public static Socket Connect(EndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = NewSocket(endpoint);
        try
        {
            socket.Connect(endpoint);
            SetNoDelay(socket);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A source's connection to a waiting destination: plain, or, with <paramref name="tls"/>, a TLS
    /// session whose certificate chains to the credentials' CA and names <paramref name="tlsHostname"/>.
    /// </summary>
    /// <exception cref="IOException">Nobody accepts at <paramref name="destination"/>; the message says to check the destination's <c>-incoming</c>.</exception>
    /// <exception cref="MigrationTlsException">The TLS handshake failed; the message says why.</exception>
    public static async Task<Stream> ConnectAsync(EndPoint destination, MigrationTlsCredentials? tls, string? tlsHostname, CancellationToken cancellationToken = default)
    {
        Socket socket;
        try
        {
            socket = Connect(destination);
        }
        catch (SocketException e)
        {
            throw new IOException($"cannot connect to the destination at {MigrationAddress.Format(destination)}: {e.Message} (is QEMU waiting with -incoming there?)", e);
        }

        var plain = new NetworkStream(socket, ownsSocket: true);
        if (tls is null)
        {
            return plain;
        }

        try
        {
            ArgumentNullException.ThrowIfNull(tlsHostname);
            return await MigrationTls.ConnectAsync(plain, tls, tlsHostname, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await plain.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Turns Nagle off on a TCP socket (accepted or connected); a Unix socket has none.</summary>
    public static void SetNoDelay(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            socket.NoDelay = true;
        }
    }

    private static Socket NewSocket(EndPoint endpoint) => endpoint is UnixDomainSocketEndPoint
        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
}
