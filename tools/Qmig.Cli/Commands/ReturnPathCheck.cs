using Qmig.Wire;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary>
/// <c>qmig check --return-path FILE [--blocks-from MAIN]</c>: the return-path reader's rules
/// (message types, lengths, the received-bitmap blob, truncation) and, given the main stream's
/// block list, the source's rules for page requests.
/// </summary>
internal static class ReturnPathCheck
{
    public static int Run(InputFile file, string? blocksFrom, int pageSize)
    {
        PageRequestChecker? requests = null;
        if (blocksFrom is not null)
        {
            var options = PreemptChannel.Options(blocksFrom, pageSize, out var failed);
            if (options is null)
            {
                return failed;
            }

            requests = new PageRequestChecker(options.PreemptChannelBlocks!, options.TargetPageSize);
        }

        var visitor = new CheckingVisitor(requests, new int[1]);
        var reader = new ReturnPathReader();
        var error = MigrationStreamDriver.Read(file.Stream, reader, ref visitor) ?? requests?.Error;
        if (error is not null)
        {
            return ReturnPathDump.Report(file, error);
        }

        var checkedRequests = requests is null ? "page requests not checked (no --blocks-from)" : $"{requests.Requests} page requests inside their blocks";
        Console.WriteLine($"{file.Name}: ok: {reader.Position} bytes, {visitor.Messages[0]} return-path messages, {checkedRequests}");
        return ExitCodes.Ok;
    }

    private readonly struct CheckingVisitor(PageRequestChecker? requests, int[] messages) : IReturnPathVisitor
    {
        public int[] Messages => messages;

        public void OnMessage(in RecordInfo record, in RpMessage message)
        {
            messages[0]++;
            requests?.Check(record, message);
        }

        public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob)
        {
        }
    }
}
