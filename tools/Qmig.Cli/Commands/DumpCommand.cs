using System.CommandLine;
using Qmig.Cli.Output;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary><c>qmig dump FILE|-</c>: every record with offset, length, type, section and QEMU names.</summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var input = CommonOptions.Input();
        var format = CommonOptions.Format("text", "json", "jsonl");
        var hex = new Option<bool>("--hex") { Description = "Add the bytes of every record (hexdump -C rows in text); shows every record" };
        var records = new Option<string>("--records")
        {
            Description = "Text only: 'runs' (default) folds consecutive page records of one kind and block into one line; 'all' prints every record",
            DefaultValueFactory = _ => "runs",
        };
        records.AcceptOnlyFromAmong("runs", "all");
        var returnPath = new Option<bool>("--return-path") { Description = "The input is a captured return-path stream (MIG_RP_MSG messages)" };
        var vmdesc = CommonOptions.VmDesc();
        var pageSize = CommonOptions.PageSize();
        var offset = CommonOptions.Offset();
        var preempt = PreemptChannel.Flag();
        var blocksFrom = PreemptChannel.BlocksFrom();
        var command = new Command("dump", "Print the records of a migration stream (page records folded into runs unless --records all)") { input, format, hex, records, returnPath, preempt, blocksFrom, vmdesc, pageSize, offset };
        command.SetAction(result =>
        {
            var name = result.GetValue(input)!;
            var formatName = result.GetValue(format)!;
            var console = result.InvocationConfiguration;
            return Cli.Guard(console.Error, () =>
            {
                using var file = InputFile.Open(name, result.GetValue(offset));
                using var stdout = StandardOutput.Open(console.Output);
                using var buffered = new BufferedStream(stdout, 1 << 16);
                using IRecordRenderer renderer = formatName == "text"
                    ? new TextRenderer(new StreamWriter(buffered, leaveOpen: true) { AutoFlush = false })
                    : new JsonRenderer(buffered, formatName == "jsonl", file.Name);
                if (result.GetValue(returnPath))
                {
                    return ReturnPathDump.Run(file, renderer, result.GetValue(hex));
                }

                var options = StreamReaderOptions.For(file, result.GetValue(preempt), result.GetValue(blocksFrom), result.GetValue(vmdesc), result.GetValue(pageSize), out var failed);
                if (options is null)
                {
                    return failed;
                }

                // JSON keeps every record: scripts read the records, people read the text.
                var fold = formatName == "text" && !result.GetValue(hex) && result.GetValue(records) == "runs";
                var visitor = new DumpVisitor(renderer, result.GetValue(hex), fold);
                var code = StreamRun.Execute(file, options, ref visitor, out var reader, console.Error);
                visitor.Flush();
                renderer.Finish(reader.Error?.Format(file.Name));
                return code;
            });
        });
        return command;
    }
}
