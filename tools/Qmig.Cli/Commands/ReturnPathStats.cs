using System.Text.Json;
using Qmig.Wire;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary>Counts of return-path messages by MIG_RP_MSG name.</summary>
internal static class ReturnPathStats
{
    public static int Run(InputFile file, bool json)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var visitor = new CountingVisitor(counts);
        var reader = new ReturnPathReader();
        var error = MigrationStreamDriver.Read(file.Stream, reader, ref visitor);
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            using var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
            writer.WriteStartObject();
            writer.WriteString("file", file.Name);
            if (file.Length is long size)
            {
                writer.WriteNumber("size", size);
            }

            writer.WriteNumber("consumed", reader.Position);
            writer.WriteStartObject("messages");
            foreach (var (name, count) in counts)
            {
                writer.WriteNumber(name, count);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.Flush();
            stdout.WriteByte((byte)'\n');
        }
        else
        {
            Console.WriteLine($"{file.Name}: {reader.Position} bytes; " + string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
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
