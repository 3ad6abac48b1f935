using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Qmig.Postcopy.Tls;
using Qmig.TestSupport;
using Xunit;

namespace Qmig.Postcopy.Tests.Tls;

/// <summary>
/// The TLS handshakes and the socket bridge between two qmig ends on loopback, with certificates
/// made here; the same code against real QEMU ends is in the CLI's TLS tests.
/// </summary>
public sealed class MigrationTlsTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-tls-").FullName;
    private readonly TestCertificateAuthority _ca = new("qmig test CA");
    private readonly TestCertificateAuthority _otherCa = new("another CA");

    [Fact]
    public async Task BytesPassBothWaysThroughTheBridgeAndEachEndSeesTheOthersClose()
    {
        var directory = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost", "127.0.0.1"]);
        var (serverTask, client) = await HandshakeAsync(directory, directory, "localhost");
        using var exposed = TlsSocketBridge.Open(await serverTask);
        Assert.NotNull(client);
        await using var clientStream = client;

        var stream = new byte[1 << 20];
        Random.Shared.NextBytes(stream);
        var sending = Task.Run(async () =>
        {
            await clientStream.WriteAsync(stream);
            await clientStream.ShutdownAsync();
        });
        var received = ReadToEnd(exposed);
        await sending;
        Assert.Equal(stream, received);

        exposed.Send("back"u8);
        exposed.Shutdown(SocketShutdown.Send);
        var back = new MemoryStream();
        await clientStream.CopyToAsync(back).WaitAsync(Limit);
        Assert.Equal("back"u8.ToArray(), back.ToArray());
    }

    [Fact]
    public async Task AClientCertificateFromAnotherAuthorityIsRefused()
    {
        var server = _ca.WriteCredentials(Path.Combine(_work, "server"), ["localhost"]);
        // The client trusts both, so only the server's check can refuse.
        var client = _otherCa.WriteCredentials(Path.Combine(_work, "client"), ["localhost"], _ca);
        var (serverTask, clientStream) = await HandshakeAsync(server, client, "localhost", expectClientFailure: true);
        clientStream?.Dispose();

        var refused = await Assert.ThrowsAsync<MigrationTlsException>(() => serverTask);
        Assert.Contains("source's client certificate 'CN=qmig-test-client' does not chain to the certificate authority in", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerCertificateForAnotherHostIsRefused()
    {
        var directory = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["destination.example"]);
        using var listener = Listen();
        var serverTask = AcceptAsync(listener, directory);
        using var credentials = MigrationTlsCredentials.Load(directory, MigrationTlsEndpoint.Client);

        var refused = await Assert.ThrowsAsync<MigrationTlsException>(() => MigrationTls.ConnectAsync(ConnectStream(listener), credentials, "localhost"));
        Assert.Contains("is not for host 'localhost' (its names: destination.example)", refused.Message, StringComparison.Ordinal);
        await ForgetAsync(serverTask);
    }

    [Fact]
    public async Task AServerCertificateFromAnotherAuthorityIsRefused()
    {
        var server = _otherCa.WriteCredentials(Path.Combine(_work, "server"), ["localhost"], _ca);
        var client = _ca.WriteCredentials(Path.Combine(_work, "client"), ["localhost"]);
        using var listener = Listen();
        var serverTask = AcceptAsync(listener, server);
        using var credentials = MigrationTlsCredentials.Load(client, MigrationTlsEndpoint.Client);

        var refused = await Assert.ThrowsAsync<MigrationTlsException>(() => MigrationTls.ConnectAsync(ConnectStream(listener), credentials, "localhost"));
        Assert.Contains("destination's server certificate 'CN=localhost' does not chain", refused.Message, StringComparison.Ordinal);
        await ForgetAsync(serverTask);
    }

    [Fact]
    public async Task AClientWithoutACertificateIsRefusedWhileThePeerIsVerified()
    {
        var directory = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost"]);
        var client = Path.Combine(_work, "client");
        Directory.CreateDirectory(client);
        File.Copy(Path.Combine(directory, "ca-cert.pem"), Path.Combine(client, "ca-cert.pem"));
        var (serverTask, clientStream) = await HandshakeAsync(directory, client, "localhost", expectClientFailure: true);
        clientStream?.Dispose();

        var refused = await Assert.ThrowsAsync<MigrationTlsException>(() => serverTask);
        Assert.Contains("the source presented no certificate, and peer verification is on", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlaintextMigrationStreamIsRefusedBeforeAnyOfItIsRead()
    {
        var directory = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost"]);
        using var listener = Listen();
        var serverTask = AcceptAsync(listener, directory);
        using var plain = ConnectSocket(listener);
        plain.Send([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]);

        var refused = await Assert.ThrowsAsync<MigrationTlsException>(() => serverTask);
        Assert.Contains("sent plaintext where a TLS handshake was expected: its first bytes are 5145564d (the magic of a QEMU migration stream", refused.Message, StringComparison.Ordinal);
        // Closed by the refusal, its bytes unread: the plaintext peer sees the connection reset.
        plain.ReceiveTimeout = (int)Limit.TotalMilliseconds;
        var closed = Record.Exception(() => Assert.Equal(0, plain.Receive(new byte[1])));
        Assert.True(closed is null or SocketException { SocketErrorCode: SocketError.ConnectionReset }, $"the refused connection was not closed: {closed}");
    }

    [Fact]
    public void ADirectoryWithoutTheServersKeyNamesTheMissingFile()
    {
        var directory = _ca.WriteCredentials(Path.Combine(_work, "creds"), ["localhost"]);
        File.Delete(Path.Combine(directory, "server-key.pem"));

        var missing = Assert.Throws<MigrationTlsException>(() => MigrationTlsCredentials.Load(directory, MigrationTlsEndpoint.Server));
        Assert.Contains("server-key.pem is missing", missing.Message, StringComparison.Ordinal);
    }

    private static async Task<(Task<SslStream> Server, SslStream? Client)> HandshakeAsync(string serverDirectory, string clientDirectory, string hostname, bool expectClientFailure = false)
    {
        var listener = Listen();
        var server = AcceptAsync(listener, serverDirectory);
        using var credentials = MigrationTlsCredentials.Load(clientDirectory, MigrationTlsEndpoint.Client);
        SslStream? client = null;
        try
        {
            client = await MigrationTls.ConnectAsync(ConnectStream(listener), credentials, hostname).WaitAsync(Limit);
            if (expectClientFailure)
            {
                // Under TLS 1.3 the client finishes before the server has judged its certificate;
                // the refusal reaches it on its first read.
                await client.ReadAsync(new byte[1]).AsTask().WaitAsync(Limit);
            }
        }
        catch (Exception e) when (expectClientFailure && e is MigrationTlsException or IOException)
        {
            // The server refused it; the server's exception is what the test checks.
        }

        _ = server.ContinueWith(_ => listener.Dispose(), TaskScheduler.Default);
        return (server, client);
    }

    /// <summary>Under TLS 1.3 the server's handshake completes before the client judges its certificate; its side is not what these tests check.</summary>
    private static async Task ForgetAsync(Task<SslStream> server)
    {
        try
        {
            await using var stream = await server.WaitAsync(Limit);
        }
        catch (Exception e) when (e is MigrationTlsException or IOException)
        {
            // Or it noticed the client's alert first.
        }
    }

    private static Task<SslStream> AcceptAsync(Socket listener, string directory) => Task.Run(async () =>
    {
        using var credentials = MigrationTlsCredentials.Load(directory, MigrationTlsEndpoint.Server);
        var accepted = await listener.AcceptAsync();
        return await MigrationTls.AcceptAsync(accepted, credentials, Limit);
    });

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        return listener;
    }

    private static Socket ConnectSocket(Socket listener)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(listener.LocalEndPoint!);
        return socket;
    }

    private static NetworkStream ConnectStream(Socket listener) => new(ConnectSocket(listener), ownsSocket: true);

    private static byte[] ReadToEnd(Socket socket)
    {
        socket.ReceiveTimeout = (int)Limit.TotalMilliseconds;
        var all = new MemoryStream();
        var buffer = new byte[64 << 10];
        int read;
        while ((read = socket.Receive(buffer)) > 0)
        {
            all.Write(buffer, 0, read);
        }

        return all.ToArray();
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}
