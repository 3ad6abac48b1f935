using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Qmig.Wire;
using Qmig.Wire.Writing;

namespace Qmig.Benchmarks.Postcopy;

/// <summary>
/// A postcopy source that sends no page until it is asked: one RAM block, ADVISE, a package with
/// LISTEN and RUN, then for every REQ_PAGES(_ID) on the return path the requested pages at once,
/// and EOF when every page has gone. With no background sender and no rate limit, every fault of
/// the destination costs exactly one request and one reply, so its fault-to-placed latency can be
/// set against the floor (a loopback request/reply plus a userfaultfd round trip).
/// </summary>
internal sealed class RespondingSource(Socket socket, long pages)
{
    public const string BlockName = "pc.ram";
    private const int PageSize = 4096;
    private const uint RamSectionId = 2;

    private readonly byte[] _page = CreatePage();
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private long _sent;

    public long Requests { get; private set; }

    /// <summary>Serves until every page is sent and the destination has shut its return path.</summary>
    public void Run()
    {
        var writer = new MigrationStreamWriter(_buffer, PageSize);
        writer.FileHeader();
        writer.Configuration("pc-i440fx-7.2");
        writer.Command(MigCmd.OpenReturnPath);
        writer.PostcopyAdvise(PageSize, PageSize);
        writer.SectionStart(RamSectionId, "ram", 0, 4);
        writer.RamBlockList([(BlockName, (ulong)(pages * PageSize))]);
        writer.RamEos();
        writer.Footer(RamSectionId);
        var package = new ArrayBufferWriter<byte>();
        var packaged = new MigrationStreamWriter(package, PageSize);
        packaged.Command(MigCmd.PostcopyListen);
        packaged.Command(MigCmd.PostcopyRun);
        writer.Packaged(package.WrittenSpan);
        Flush();

        var header = new byte[4];
        var payload = new byte[512];
        while (ReadExactly(header))
        {
            var type = (MigRpMsg)BinaryPrimitives.ReadUInt16BigEndian(header);
            var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
            if (length > payload.Length || !ReadExactly(payload.AsSpan(0, length)))
            {
                throw new InvalidDataException($"return path: {type} with {length} bytes of payload");
            }

            if (type is MigRpMsg.ReqPages or MigRpMsg.ReqPagesId)
            {
                var start = BinaryPrimitives.ReadUInt64BigEndian(payload);
                var bytes = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(8));
                Send(writer, start, bytes);
            }
        }
    }

    private void Send(MigrationStreamWriter writer, ulong start, uint length)
    {
        Requests++;
        writer.SectionPart(RamSectionId);
        for (var offset = start; offset < start + length; offset += PageSize)
        {
            writer.RamPage(System.Text.Encoding.ASCII.GetBytes(BlockName), offset, _page);
            _sent++;
        }

        writer.RamEos();
        writer.Footer(RamSectionId);
        if (_sent >= pages)
        {
            writer.SectionPart(RamSectionId, end: true);
            writer.RamEos();
            writer.Footer(RamSectionId);
            writer.EndOfSections();
            Flush();
            socket.Shutdown(SocketShutdown.Send);
            return;
        }

        Flush();
    }

    private void Flush()
    {
        socket.Send(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    private bool ReadExactly(Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = socket.Receive(buffer[read..]);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private static byte[] CreatePage()
    {
        var page = new byte[PageSize];
        page.AsSpan().Fill(0x5A);
        return page;
    }
}
