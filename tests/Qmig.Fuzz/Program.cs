using SharpFuzz;

namespace Qmig.Fuzz;

/// <summary>
/// afl-fuzz entry point: <c>Qmig.Fuzz stream</c>, <c>Qmig.Fuzz return-path</c> or <c>Qmig.Fuzz saved-stream</c>. With a file
/// argument after the harness name it runs that input once (reproducing a crash without afl).
/// Nothing is caught: any exception escaping a harness is a finding.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Func<byte[], System.Buffers.OperationStatus> harness = args.Length > 0 && args[0] == "return-path" ? Harnesses.ReturnPath
            : args.Length > 0 && args[0] == "stream" ? Harnesses.Stream
            : args.Length > 0 && args[0] == "saved-stream" ? Harnesses.Snapshot
            : throw new ArgumentException("usage: Qmig.Fuzz stream|return-path|saved-stream [input-file]");

        if (args.Length > 1)
        {
            Console.WriteLine(harness(File.ReadAllBytes(args[1])));
            return 0;
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            _ = harness(copy.ToArray());
        });
        return 0;
    }
}
