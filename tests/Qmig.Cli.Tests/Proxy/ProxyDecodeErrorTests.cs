using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Qmig.Cli.Tests.Proxy;

/// <summary>
/// A stream that fails to decode, through <c>qmig proxy</c> between a socket that sends a damaged
/// real stream (tests/data) and one that takes everything: by default the proxy reports the offset
/// and rule and forwards every byte unchanged (a witness); with <c>--strict</c> it stops the
/// migration before the bad bytes reach the destination.
/// </summary>
public sealed class ProxyDecodeErrorTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("qmig-proxy-decode-").FullName;

    /// <summary>A real precopy stream whose first section type (offset 8, QEMU_VM_CONFIGURATION) is made one no QEMU sends.</summary>
    private static byte[] DamagedStream()
    {
        var stream = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "pc-32m-return-path-qemu10", "precopy-forward.mig"));
        Assert.Equal(0x07, stream[8]);
        stream[8] = 0xee;
        return stream;
    }

    [Fact]
    public void DamagedStreamIsReportedAndForwardedUnchanged()
    {
        var stream = DamagedStream();
        var record = Path.Combine(_work, "record");
        var (exit, stderr, received) = Migrate(stream, "--record", record, "--live");
        Assert.Equal(stream, received);
        Assert.Equal(stream, File.ReadAllBytes(Path.Combine(record, "main-forward.mig")));
        Assert.Matches(@"main-forward\.mig:0x8: error QMIG\d{4}", stderr);
        Assert.Equal(1, exit);
        Assert.DoesNotContain("\x1b[K", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void StrictStopsBeforeTheBadBytesReachTheDestination()
    {
        var stream = DamagedStream();
        var (exit, stderr, received) = Migrate(stream, "--strict");
        Assert.Equal(4, exit);
        Assert.Contains("failed to decode (--strict)", stderr, StringComparison.Ordinal);
        Assert.Matches(@"main-forward\.mig:0x8: error QMIG\d{4}", stderr);
        Assert.True(received.Length < 8, $"the destination received {received.Length} bytes, the damaged record included");
    }

    /// <summary>Sends <paramref name="stream"/> through the proxy to a destination socket that reads to the end.</summary>
    private (int Exit, string Stderr, byte[] Received) Migrate(byte[] stream, params string[] options)
    {
        using var destination = new TcpListener(IPAddress.Loopback, 0);
        destination.Start();
        var port = ((IPEndPoint)destination.LocalEndpoint).Port;
        var receiving = Task.Run(() =>
        {
            using var connection = destination.AcceptSocket();
            using var received = new MemoryStream();
            var buffer = new byte[64 << 10];
            try
            {
                int read;
                while ((read = connection.Receive(buffer)) > 0)
                {
                    received.Write(buffer, 0, read);
                }
            }
            catch (SocketException)
            {
                // The proxy reset the connection (--strict): what arrived before is the answer.
            }

            return received.ToArray();
        });
        using var proxy = new ProxyProcess(_work, $"tcp:127.0.0.1:{port}", options);
        using (var source = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            source.Connect(new UnixDomainSocketEndPoint(proxy.ListenPath));
            try
            {
                source.Send(stream);
                source.Shutdown(SocketShutdown.Send);
                while (source.Receive(new byte[4096]) > 0)
                {
                }
            }
            catch (SocketException)
            {
                // --strict closes the source's connection while it is still sending.
            }
        }

        Assert.True(receiving.Wait(TimeSpan.FromSeconds(60)), "the destination socket did not see the end of the stream");
        var (exit, stderr) = proxy.WaitForExit(TimeSpan.FromSeconds(60));
        return (exit, stderr, receiving.Result);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
