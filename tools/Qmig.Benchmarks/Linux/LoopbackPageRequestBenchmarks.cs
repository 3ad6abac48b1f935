using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;

namespace Qmig.Benchmarks.Linux;

/// <summary>
/// The network half of a postcopy fault: a 16-byte page request to a peer on loopback TCP and its
/// 4 KiB page (plus a 16-byte record header) back, as REQ_PAGES and the source's reply. Together with
/// <see cref="UffdRoundTripBenchmarks"/> it is the floor under <c>qmig receive</c>'s fault-to-placed
/// latency (the target: p50 at most 1.2× the sum of the two).
/// </summary>
[MinColumn, MedianColumn]
public class LoopbackPageRequestBenchmarks
{
    private const int Request = 16;
    private const int Reply = 16 + 4096;

    private Socket? _client;
    private Socket? _server;
    private Thread? _peer;
    private readonly byte[] _request = new byte[Request];
    private readonly byte[] _reply = new byte[Reply];

    [GlobalSetup]
    public void Setup()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _client.Connect(listener.LocalEndpoint);
        _server = listener.AcceptSocket();
        _server.NoDelay = true;
        var server = _server;
        _peer = new Thread(() =>
        {
            var request = new byte[Request];
            var reply = new byte[Reply];
            try
            {
                while (ReadExactly(server, request))
                {
                    server.Send(reply);
                }
            }
            catch (SocketException)
            {
            }
        }) { IsBackground = true };
        _peer.Start();
    }

    [Benchmark]
    public void RequestAndPage()
    {
        _client!.Send(_request);
        ReadExactly(_client, _reply);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client?.Shutdown(SocketShutdown.Both);
        _client?.Dispose();
        _peer?.Join();
        _server?.Dispose();
    }

    private static bool ReadExactly(Socket socket, byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
