using Qmig.Wire.Streaming;

namespace Qmig.Cli.Tests.Damage;

/// <summary>The real streams under tests/data that qmig reads as main streams, and where each one's vmdesc lies.</summary>
internal static class BundledStreams
{
    private static readonly string DataDirectory = Path.Combine(AppContext.BaseDirectory, "data");

    /// <summary>Every *.mig file except preempt channels (bare RAM records, read only beside their main stream).</summary>
    public static IReadOnlyList<string> MainStreams { get; } = Directory
        .GetFiles(DataDirectory, "*.mig", SearchOption.AllDirectories)
        .Where(path => !Path.GetFileName(path).Contains("preempt", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .ToArray();

    public static string Name(string path) => Path.GetRelativePath(DataDirectory, path);

    /// <summary>Where the VMDESCRIPTION record (0x06, length, JSON) starts, or null when the stream has none.</summary>
    public static long? VmDescriptionRecord(string path)
    {
        using var file = File.OpenRead(path);
        return VmDescriptionDocument.LocateInFile(file, 64 << 20) is long eof ? eof + 1 : null;
    }
}
