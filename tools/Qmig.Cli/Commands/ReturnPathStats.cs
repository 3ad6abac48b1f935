using System.Text.Json;
using Qmig.Cli.Output;
using Qmig.Wire;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary>Counts of return-path messages by MIG_RP_MSG name.</summary>
internal static class ReturnPathStats
{
    public static int Run(InputFile file, bool json, TextWriter output)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var visitor = new CountingVisitor(counts);
        var reader = new ReturnPathReader();
        var error = MigrationStreamDriver.Read(file.Stream, reader, ref visitor);
        if (json)
        {
            using var stdout = StandardOutput.Open(output);
            JsonSerializer.Serialize(stdout, new ReturnPathStatsDocument(file.Name, file.Length, reader.Position, counts), CliJson.Default.ReturnPathStatsDocument);
            stdout.WriteByte((byte)'\n');
        }
        else
        {
            output.WriteLine($"{file.Name}: {reader.Position} bytes; " + string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
        }

        return ReturnPathDump.Report(file, error);
    }

    private readonly struct CountingVisitor(SortedDictionary<string, long> counts) : IReturnPathVisitor
    {
        public void OnMessage(in RecordInfo record, in RpMessage message)
        {
            var name = ReturnPathDump.MessageName(message.MsgType);
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }

        public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob)
        {
        }
    }
}
