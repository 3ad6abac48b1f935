using System.Diagnostics;
using System.Text.Json;

namespace Qmig.Postcopy.Proxy;

/// <summary>
/// Writes what passes through a <see cref="MigrationProxy"/> into a directory: each channel and
/// direction to its own file, exactly the bytes that passed (<see cref="FileName"/>), and one JSON
/// line per forwarded chunk to <c>chunks.jsonl</c>:
/// <c>{"file":"main-forward.mig","offset":0,"length":65536,"time":0.0123}</c>, the time in seconds
/// since the recorder started (a monotonic clock), taken when the chunk was read.
/// </summary>
public sealed class ProxyRecorder : IDisposable
{
    /// <summary>The name of the chunk timestamps file.</summary>
    public const string ChunksFileName = "chunks.jsonl";

    private readonly string _directory;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly FileStream _chunksFile;
    private readonly Utf8JsonWriter _chunks;
    private readonly object _chunksLock = new();

    /// <summary>Records into <paramref name="directory"/>, creating it if needed; <c>chunks.jsonl</c> there is started over.</summary>
    public ProxyRecorder(string directory)
    {
        _directory = Directory.CreateDirectory(directory).FullName;
        _chunksFile = new FileStream(Path.Combine(_directory, ChunksFileName), FileMode.Create, FileAccess.Write, FileShare.Read, 64 << 10);
        _chunks = new Utf8JsonWriter(_chunksFile, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>
    /// The file of one channel and direction: <c>main-forward.mig</c> (source to destination) and
    /// <c>main-return.bin</c> (the return path), <c>preempt-forward.mig</c> and
    /// <c>preempt-return.bin</c>; a later connection of the same channel (a source resuming after a
    /// postcopy pause) gets its generation before the extension, <c>main-forward.1.mig</c>.
    /// A connection that is neither is <c>other-forward.N.bin</c>.
    /// </summary>
    public static string FileName(ProxyChannel channel, bool forward, int generation)
    {
        var name = channel switch
        {
            ProxyChannel.Main => "main",
            ProxyChannel.Preempt => "preempt",
            _ => "other",
        };
        var direction = forward ? "forward" : "return";
        var extension = forward && channel != ProxyChannel.Other ? ".mig" : ".bin";
        return generation == 0 && channel != ProxyChannel.Other ? $"{name}-{direction}{extension}" : $"{name}-{direction}.{generation}{extension}";
    }

    /// <summary>Creates (or truncates) a channel file; the caller writes to it and disposes it.</summary>
    public FileStream Create(string fileName) =>
        new(Path.Combine(_directory, fileName), FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);

    /// <summary>Notes that <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="fileName"/> were read at <paramref name="timestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void Chunk(string fileName, long offset, int length, long timestamp)
    {
        var seconds = Stopwatch.GetElapsedTime(_start, timestamp).TotalSeconds;
        lock (_chunksLock)
        {
            _chunks.WriteStartObject();
            _chunks.WriteString("file", fileName);
            _chunks.WriteNumber("offset", offset);
            _chunks.WriteNumber("length", length);
            _chunks.WriteNumber("time", Math.Round(seconds, 6));
            _chunks.WriteEndObject();
            _chunks.Flush();
            _chunks.Reset();
            _chunksFile.WriteByte((byte)'\n');
        }
    }

    /// <summary>Flushes and closes <c>chunks.jsonl</c>; the channel files from <see cref="Create"/> are their callers' to close.</summary>
    public void Dispose()
    {
        lock (_chunksLock)
        {
            _chunks.Dispose();
            _chunksFile.Dispose();
        }
    }
}
