using System.CommandLine;
using Command = System.CommandLine.Command;
using System.Text.Json;
using Qmig.Cli.Output;
using Qmig.Wire;
using Qmig.Wire.Analysis;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary><c>qmig stats FILE</c>: counts of records, sections, commands, RAM blocks and flags.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var input = CommonOptions.Input();
        var format = CommonOptions.Format("text", "json");
        var returnPath = new Option<bool>("--return-path") { Description = "The input is a captured return-path stream: count messages" };
        var vmdesc = CommonOptions.VmDesc();
        var pageSize = CommonOptions.PageSize();
        var offset = CommonOptions.Offset();
        var preempt = PreemptChannel.Flag();
        var blocksFrom = PreemptChannel.BlocksFrom();
        var command = new Command("stats", "Count what a migration stream holds") { input, format, returnPath, preempt, blocksFrom, vmdesc, pageSize, offset };
        command.SetAction(result => Cli.Guard(result.InvocationConfiguration.Error, () =>
        {
            var console = result.InvocationConfiguration;
            using var file = InputFile.Open(result.GetValue(input)!, result.GetValue(offset));
            var json = result.GetValue(format) == "json";
            if (result.GetValue(returnPath))
            {
                return ReturnPathStats.Run(file, json, console.Output);
            }

            var options = StreamReaderOptions.For(file, result.GetValue(preempt), result.GetValue(blocksFrom), result.GetValue(vmdesc), result.GetValue(pageSize), out var failed);
            if (options is null)
            {
                return failed;
            }

            var stats = new StreamCounts();
            if (options.PreemptChannelBlocks is { } blocks)
            {
                stats.UseBlocks(blocks);
            }

            var visitor = new StreamCountingVisitor(stats);
            var code = StreamRun.Execute(file, options, ref visitor, out var reader, console.Error);
            if (json)
            {
                using var stdout = StandardOutput.Open(console.Output);
                WriteJson(stdout, file, reader, stats);
            }
            else
            {
                WriteText(console.Output, file, reader, stats);
            }

            return code;
        }));
        return command;
    }

    private static IEnumerable<(string Name, long Count)> Flags(StreamCounts stats)
    {
        for (var bit = 0; bit < stats.FlagCounts.Count; bit++)
        {
            if (stats.FlagCounts[bit] > 0)
            {
                yield return (RecordDescriber.FlagName((RamSaveFlag)(1UL << bit)), stats.FlagCounts[bit]);
            }
        }
    }

    private static void WriteJson(Stream output, InputFile file, MigrationStreamReader reader, StreamCounts stats)
    {
        JsonSerializer.Serialize(output, StatsDocument.Of(file, reader, stats, Flags(stats)), CliJson.Default.StatsDocument);
        output.WriteByte((byte)'\n');
    }

    private static void WriteRoundTable(TextWriter o, RamRoundCounter rounds)
    {
        if (rounds.Rounds.Count == 0)
        {
            return;
        }

        var compressed = rounds.Rounds.Any(r => r.CompressedPages > 0);
        var mapped = rounds.Rounds.Any(r => r.MappedPages > 0);
        o.WriteLine($"rounds:   {rounds.Iterations} precopy rounds (a SECTION_PART each, up to its EOS); setup is the SECTION_START, final the SECTION_END");
        var header = $"  {"round",-6} {"phase",-8} {"offset",-12} {"pages",9} {"zero",9} {"normal",9} {"xbzrle",9} {"xbzrle_bytes",13}";
        o.WriteLine(header + (compressed ? $" {"compressed",10}" : "") + (mapped ? $" {"mapped",9}" : ""));
        foreach (var r in rounds.Rounds)
        {
            var line = $"  {r.Label,-6} {(r.Postcopy ? "postcopy" : "precopy"),-8} {"0x" + r.StartOffset.ToString("x"),-12} {r.Pages,9} {r.ZeroPages,9} {r.NormalPages,9} {r.XbzrlePages,9} {r.XbzrleBytes,13}";
            o.WriteLine(line + (compressed ? $" {r.CompressedPages,10}" : "") + (mapped ? $" {r.MappedPages,9}" : "") + (r.EndsAtEos ? "" : "  (no EOS: the stream ends inside)"));
        }
    }

    private static void WriteText(TextWriter o, InputFile file, MigrationStreamReader reader, StreamCounts stats)
    {
        o.WriteLine($"{file.Name}: {reader.Position} bytes read{(file.Length is long size ? $" of {size}" : "")}, {(reader.IsCompleted ? "complete" : "incomplete")}");
        o.WriteLine("records:  " + string.Join(", ", stats.Records.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}")));
        if (stats.Commands.Count > 0)
        {
            o.WriteLine("commands: " + string.Join(", ", stats.Commands.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}")));
        }

        o.WriteLine($"sections: {stats.Sections.Count} ({string.Join(", ", stats.Sections.Select(s => s.Idstr).Take(8))}{(stats.Sections.Count > 8 ? ", ..." : "")})");
        o.WriteLine($"ram:      {stats.RamRecords} records on {reader.TargetPageSize}-byte pages; " + string.Join(", ", Flags(stats).Select(f => $"{f.Name} {f.Count}")));
        foreach (var block in stats.Blocks)
        {
            o.WriteLine($"  {block.Name,-28} used_length {"0x" + block.UsedLength.ToString("x"),-12} pages {stats.PagesIn(block)}");
        }

        foreach (var m in stats.MappedRam)
        {
            o.WriteLine($"  mapped-ram {m.Block.Name,-17} bitmap 0x{m.BitmapOffset:x} ({m.BitmapBytes} bytes), pages 0x{m.PagesOffset:x}, {m.PagesPresent} present, {m.BytesRead / reader.TargetPageSize} read");
        }

        WriteRoundTable(o, stats.Rounds);
    }
}
