using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>
/// A stand-in destination on a loopback socket: it reads the source's stream with our own reader, records
/// the commands and RAM records in order, answers every PING with a PONG, and writes whatever return-path
/// bytes the test gives it. After the stream's EOF it says SHUT 0 unless told not to.
/// </summary>
internal sealed class ScriptedDestination : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Lock _sendLock = new();
    private Socket? _socket;

    public ScriptedDestination()
    {
        _listener.Start();
    }

    public List<string> Events { get; } = [];

    /// <summary>Pages as received after LISTEN: (block, offset) → content (empty for a ZERO record).</summary>
    public List<(string Block, ulong Offset, byte[] Content)> PostcopyPages { get; } = [];

    public List<(string Block, ulong Offset, byte[] Content)> PrecopyPages { get; } = [];

    public MigrationError? StreamError { get; private set; }

    public bool SendShut { get; init; } = true;

    public bool AnswerPings { get; init; } = true;

    /// <summary>Called once after RUN is read, to inject return-path messages mid-postcopy.</summary>
    public Action<ScriptedDestination>? AfterRun { get; init; }

    public async Task<Socket> ConnectAsync()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = _listener.AcceptSocketAsync();
        await client.ConnectAsync((IPEndPoint)_listener.LocalEndpoint);
        _socket = await accept;
        return client;
    }

    /// <summary>True once the stream's EOF record was read.</summary>
    public bool EndOfStream { get; private set; }

    /// <summary>Reads the stream until the source closes it, answering SHUT 0 at its EOF record if asked to; an error after EOF (no vmdesc follows) is not one.</summary>
    public Task RunAsync() => Task.Run(() =>
    {
        using var stream = new NetworkStream(_socket!, ownsSocket: false);
        var visitor = new Recorder(this);
        var error = MigrationStreamDriver.Read(stream, new MigrationStreamReader(), ref visitor);
        StreamError = EndOfStream ? null : error;
    });

    public void Send(MigRpMsg type, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)payload.Length);
        payload.CopyTo(bytes.AsSpan(4));
        SendRaw(bytes);
    }

    public void SendRaw(ReadOnlySpan<byte> bytes)
    {
        lock (_sendLock)
        {
            _socket!.Send(bytes);
        }
    }

    /// <summary>Ends the return path (the source reads its end) while the stream is still read.</summary>
    public void CloseReturnPath() => _socket!.Shutdown(SocketShutdown.Send);

    public void Dispose()
    {
        _socket?.Dispose();
        _listener.Stop();
    }

    private struct Recorder(ScriptedDestination destination) : IMigrationVisitor
    {
        private bool _listening;

        public void OnFileHeader(in RecordInfo record, uint version) => destination.Events.Add("header");

        public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => destination.Events.Add("configuration " + System.Text.Encoding.ASCII.GetString(machineName));

        public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
        {
        }

        public void OnSectionHeader(in RecordInfo record, SectionInfo section) => destination.Events.Add($"{record.Kind} {section.Idstr}");

        public void OnRamBlock(in RecordInfo record, RamBlock block) => destination.Events.Add($"block {block.Name} {block.UsedLength}");

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            var flags = ram.AddrFlags & 0xfff;
            if (block is null || (flags & ((ulong)RamSaveFlag.Page | (ulong)RamSaveFlag.Zero)) == 0)
            {
                return;
            }

            var page = (flags & (ulong)RamSaveFlag.Page) != 0 ? ram.Page.ToArray() : [];
            (_listening ? destination.PostcopyPages : destination.PrecopyPages).Add((block.Name, ram.AddrFlags & ~0xfffUL, page));
        }

        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
        {
        }

        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
        {
        }

        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
        {
        }

        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) => destination.Events.Add($"device {section.Idstr} {body.Length}");

        public void OnSectionFooter(in RecordInfo record, SectionInfo section)
        {
        }

        public void OnCommand(in RecordInfo record, in Command command)
        {
            var name = command.Cmd.ToString();
            if (command.Cmd == MigCmd.Ping)
            {
                name += " " + BinaryPrimitives.ReadUInt32BigEndian(command.Payload);
                if (destination.AnswerPings)
                {
                    destination.Send(MigRpMsg.Pong, command.Payload);
                }
            }

            destination.Events.Add(name);
            if (command.Cmd == MigCmd.PostcopyListen)
            {
                _listening = true;
            }

            if (command.Cmd == MigCmd.PostcopyRun)
            {
                destination.AfterRun?.Invoke(destination);
            }
        }

        public void OnEndOfSections(in RecordInfo record)
        {
            destination.Events.Add("EOF");
            destination.EndOfStream = true;
            if (destination.SendShut)
            {
                destination.Send(MigRpMsg.Shut, [0, 0, 0, 0]);
            }
        }

        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => destination.Events.Add("vmdesc");
    }
}
