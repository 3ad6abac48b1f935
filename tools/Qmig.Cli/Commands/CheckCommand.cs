using System.CommandLine;
using Command = System.CommandLine.Command;
using Qmig.Wire;
using Qmig.Wire.Analysis;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary><c>qmig check FILE</c>: every conformance rule; the first broken one is reported with its QMIG id.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var input = CommonOptions.Input();
        input.Arity = ArgumentArity.ZeroOrOne;
        var listRules = new Option<bool>("--list-rules") { Description = "Print every rule with its QMIG id and exit" };
        var strictZero = new Option<bool>("--strict-zero-fill") { Description = "Reject ZERO pages with a non-zero fill byte, as QEMU 10.x does" };
        var vmdesc = CommonOptions.VmDesc();
        var pageSize = CommonOptions.PageSize();
        var offset = CommonOptions.Offset();
        var returnPath = new Option<bool>("--return-path") { Description = "The input is a captured return-path stream: check its messages (and, with --blocks-from, its page requests)" };
        var preempt = PreemptChannel.Flag();
        var blocksFrom = PreemptChannel.BlocksFrom();
        blocksFrom.Description = "The main stream of the same migration: its block list, for a preempt channel's records or a return path's page requests";
        var command = new Command("check", "Check a migration stream against every conformance rule") { input, listRules, strictZero, returnPath, preempt, blocksFrom, vmdesc, pageSize, offset };
        command.SetAction(result =>
        {
            var console = result.InvocationConfiguration;
            if (result.GetValue(listRules))
            {
                foreach (var rule in MigrationRules.All)
                {
                    console.Output.WriteLine($"{rule.Id}  {rule.Title}");
                }

                return ExitCodes.Ok;
            }

            var name = result.GetValue(input);
            if (name is null)
            {
                console.Error.WriteLine("qmig check: a FILE (or -) is needed unless --list-rules is given");
                return ExitCodes.UsageOrIo;
            }

            return Cli.Guard(console.Error, () =>
            {
                using var file = InputFile.Open(name, result.GetValue(offset));
                if (result.GetValue(returnPath))
                {
                    return ReturnPathCheck.Run(file, result.GetValue(blocksFrom), result.GetValue(pageSize));
                }

                var options = StreamReaderOptions.For(file, result.GetValue(preempt), result.GetValue(blocksFrom), result.GetValue(vmdesc), result.GetValue(pageSize), out var failed);
                if (options is null)
                {
                    return failed;
                }

                options = options with { StrictZeroFill = result.GetValue(strictZero) };
                var stats = new StreamCounts();
                if (options.PreemptChannelBlocks is { } blocks)
                {
                    stats.UseBlocks(blocks);
                }

                var visitor = new StreamCountingVisitor(stats);
                var code = StreamRun.Execute(file, options, ref visitor, out var reader, console.Error);
                if (code == ExitCodes.Ok)
                {
                    console.Output.WriteLine($"{file.Name}: ok: {reader.Position} bytes, {stats.Records.Values.Sum()} records, {stats.RamRecords} RAM records, {MigrationRules.All.Count} rules checked");
                }

                return code;
            });
        });
        return command;
    }
}
