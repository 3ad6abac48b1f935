using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qmig.Cli.Tests.Receive;

/// <summary>A minimal QMP client: one command at a time, events skipped.</summary>
internal sealed class QmpClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    public static QmpClient Connect(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                var client = new QmpClient(socket);
                client.ReadReply(); // the greeting
                client.Execute("qmp_capabilities");
                return client;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(100);
            }
        }
    }

    public JsonNode? Execute(string command, object? arguments = null)
    {
        var request = arguments is null
            ? JsonSerializer.Serialize(new { execute = command })
            : JsonSerializer.Serialize(new { execute = command, arguments });
        _stream.Write(Encoding.UTF8.GetBytes(request + "\n"));
        var reply = ReadReply();
        if (reply["error"] is { } error)
        {
            throw new InvalidOperationException($"QMP {command} failed: {error.ToJsonString()}");
        }

        return reply["return"];
    }

    /// <summary>Runs an HMP command (for example <c>xp</c>) and returns its text.</summary>
    public string Human(string commandLine) => Execute("human-monitor-command", new Dictionary<string, object> { ["command-line"] = commandLine })!.GetValue<string>();

    /// <summary>Polls query-migrate until <paramref name="done"/> holds; fails on failed/cancelled or after the timeout.</summary>
    public JsonNode WaitMigrate(Func<JsonNode, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var info = Execute("query-migrate")!;
            var status = info["status"]?.GetValue<string>();
            if (done(info))
            {
                return info;
            }

            if (status is "failed" or "cancelled")
            {
                throw new InvalidOperationException($"waiting for {what}: the migration is {status}: {info.ToJsonString()}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waiting for {what}: still {status} after {timeout.TotalSeconds} s: {info.ToJsonString()}");
            }

            Thread.Sleep(100);
        }
    }

    private JsonNode ReadReply()
    {
        while (true)
        {
            var line = _reader.ReadLine() ?? throw new IOException("QMP connection closed");
            var node = JsonNode.Parse(line)!;
            if (node["event"] is null)
            {
                return node;
            }
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
        _socket.Dispose();
    }
}
