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
                return ReturnPathStats.Run(file, json);
            }

            var options = StreamReaderOptions.For(file, result.GetValue(preempt), result.GetValue(blocksFrom), result.GetValue(vmdesc), result.GetValue(pageSize), out var failed);
            if (options is null)
            {
                return failed;
            }

            var stats = new StatsCollector();
            if (options.PreemptChannelBlocks is { } blocks)
            {
                stats.UseBlocks(blocks);
            }

            var visitor = new StatsVisitor(stats);
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

    private static IEnumerable<(string Name, long Count)> Flags(StatsCollector stats)
    {
        for (var bit = 0; bit < stats.FlagCounts.Length; bit++)
        {
            if (stats.FlagCounts[bit] > 0)
            {
                yield return (RecordDescriber.FlagName((RamSaveFlag)(1UL << bit)), stats.FlagCounts[bit]);
            }
        }
    }

    private static void WriteJson(Stream output, InputFile file, MigrationStreamReader reader, StatsCollector stats)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteString("file", file.Name);
        if (file.Length is long size)
        {
            writer.WriteNumber("size", size);
        }

        writer.WriteNumber("consumed", reader.Position);
        writer.WriteBoolean("complete", reader.IsCompleted);
        if (reader.Error is { } error)
        {
            writer.WriteString("error", error.Format(file.Name));
        }

        writer.WriteStartObject("records");
        foreach (var (name, count) in stats.Records.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            writer.WriteNumber(name, count);
        }

        writer.WriteEndObject();
        writer.WriteStartArray("sections");
        foreach (var section in stats.Sections)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", section.Id);
            writer.WriteString("idstr", section.Idstr);
            writer.WriteNumber("instance", section.InstanceId);
            writer.WriteNumber("version", section.VersionId);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartObject("commands");
        foreach (var (name, count) in stats.Commands.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            writer.WriteNumber(name, count);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("ram");
        writer.WriteNumber("page_size", reader.TargetPageSize);
        writer.WriteNumber("records", stats.RamRecords);
        writer.WriteStartObject("blocks");
        foreach (var block in stats.Blocks)
        {
            writer.WriteStartObject(block.Name);
            writer.WriteNumber("used_length", block.UsedLength);
            writer.WriteNumber("pages", stats.PagesPerBlock[block.Index]);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteStartObject("flags");
        foreach (var (name, count) in Flags(stats))
        {
            writer.WriteNumber(name, count);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        WriteRounds(writer, stats.Rounds);
        if (stats.MappedRam.Count > 0)
        {
            // Same shape as tests/data/*/expected-counts.json's mapped_ram.
            writer.WriteStartObject("mapped_ram");
            foreach (var m in stats.MappedRam)
            {
                writer.WriteStartObject(m.Block.Name);
                writer.WriteNumber("bitmap_offset", m.BitmapOffset);
                writer.WriteNumber("bitmap_bytes", m.BitmapBytes);
                writer.WriteNumber("pages_offset", m.PagesOffset);
                writer.WriteNumber("pages_present", m.PagesPresent);
                writer.WriteNumber("pages_read", m.BytesRead / reader.TargetPageSize);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.Flush();
        output.WriteByte((byte)'\n');
    }

    private static void WriteRounds(Utf8JsonWriter writer, RamRoundCounter rounds)
    {
        writer.WriteNumber("iterations", rounds.Iterations);
        writer.WriteStartArray("rounds");
        foreach (var round in rounds.Rounds)
        {
            RoundJson.Write(writer, round);
        }

        writer.WriteEndArray();
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

    private static void WriteText(TextWriter o, InputFile file, MigrationStreamReader reader, StatsCollector stats)
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
            o.WriteLine($"  {block.Name,-28} used_length {"0x" + block.UsedLength.ToString("x"),-12} pages {stats.PagesPerBlock[block.Index]}");
        }

        foreach (var m in stats.MappedRam)
        {
            o.WriteLine($"  mapped-ram {m.Block.Name,-17} bitmap 0x{m.BitmapOffset:x} ({m.BitmapBytes} bytes), pages 0x{m.PagesOffset:x}, {m.PagesPresent} present, {m.BytesRead / reader.TargetPageSize} read");
        }

        WriteRoundTable(o, stats.Rounds);
    }
}
