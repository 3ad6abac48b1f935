using System.Buffers;
using Qmig.Wire.ReturnPath;

namespace Qmig.Wire.Streaming;

/// <summary>Feeds a <see cref="System.IO.Stream"/> (a file, stdin, a socket) through a reader in large reads.</summary>
public static class MigrationStreamDriver
{
    /// <summary>Reads a whole main stream; returns null on success or the error that stopped it.</summary>
    /// <param name="input">The stream, read from its current position to its end.</param>
    /// <param name="reader">The reader that checks and splits the records; it also holds the error and the position reached.</param>
    /// <param name="visitor">Receives every record in stream order.</param>
    /// <param name="chunkSize">Bytes asked of <paramref name="input"/> per read; the buffer grows past it only for a record that needs more.</param>
    /// <param name="progress">Called after each chunk with the stream offset reached, for a progress display.</param>
    /// <param name="releasing">
    /// Called after each pass of the reader, before the bytes it handed to the visitor are moved
    /// or overwritten: a visitor that kept pointers to them (a <see cref="Extraction.RamImageSet"/>
    /// borrowing pages) is done with them when it returns. Until then they stay at their address.
    /// </param>
    public static MigrationError? Read<TVisitor>(System.IO.Stream input, MigrationStreamReader reader, ref TVisitor visitor,
        int chunkSize = InputWindow.DefaultSize, Action<long>? progress = null, Action? releasing = null)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var window = new InputWindow(chunkSize);
        var released = false;
        try
        {
            while (true)
            {
                window.ReadFrom(input);
                var sequence = window.Unconsumed;
                var status = reader.Read(ref sequence, window.IsFinal, ref visitor);
                released = true;
                releasing?.Invoke();
                window.Consumed(sequence);
                progress?.Invoke(reader.Position);
                if (status != OperationStatus.NeedMoreData || window.IsFinal)
                {
                    return reader.Error;
                }

                released = false;
            }
        }
        finally
        {
            // A visitor that threw may still hold bytes of the buffer, which is unreachable after this.
            if (!released)
            {
                releasing?.Invoke();
            }

            GC.KeepAlive(window);
        }
    }

    /// <summary>
    /// Reads a whole main stream from a file: mapped and parsed in place in large windows (no
    /// copy of the page bytes) where the OS allows, else through <see cref="Read{TVisitor}(System.IO.Stream, MigrationStreamReader, ref TVisitor, int, Action{long}?, Action?)"/>.
    /// </summary>
    public static MigrationError? ReadFile<TVisitor>(string path, MigrationStreamReader reader, ref TVisitor visitor, Action<long>? progress = null)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return ReadFile(file, reader, ref visitor, progress);
    }

    /// <summary>As <see cref="ReadFile{TVisitor}(string, MigrationStreamReader, ref TVisitor, Action{long}?)"/>, from the current position of an open file to its end.</summary>
    public static MigrationError? ReadFile<TVisitor>(FileStream file, MigrationStreamReader reader, ref TVisitor visitor, Action<long>? progress = null)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var start = file.Position;
        using var mapping = IO.FileMapping.TryMap(file.SafeFileHandle, file.Length, writable: false);
        if (mapping is null)
        {
            return Read(file, reader, ref visitor, progress: progress);
        }

        return ReadMapped(mapping, start, reader, ref visitor, populateMappedRamPages: true, progress);
    }

    /// <summary>
    /// Reads a whole main stream from a mapped file, from <paramref name="start"/> to the mapping's
    /// end, parsing in place: the visitor's spans point into the mapping. Each window is populated
    /// before it is read (one call instead of a fault per page), except, when
    /// <paramref name="populateMappedRamPages"/> is false, in a mapped-ram stream, whose pages
    /// regions a visitor that does not read the pages then never brings into memory.
    /// </summary>
    internal static unsafe MigrationError? ReadMapped<TVisitor>(IO.FileMapping mapping, long start, MigrationStreamReader reader, ref TVisitor visitor,
        bool populateMappedRamPages = true, Action<long>? progress = null)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, mapping.Length);

        // Windows bound what one sequence (and one populate call) covers; a record longer than a
        // window grows it, up to what the reader itself accepts. Whether the stream is mapped-ram
        // shows in its configuration, so a caller that keeps pages unread starts with a window
        // that holds the configuration but few pages.
        const long FullWindow = 64 << 20;
        var window = populateMappedRamPages ? FullWindow : 64 << 10;
        var position = start;
        while (true)
        {
            var end = Math.Min(mapping.Length, position + window);
            if (populateMappedRamPages || !reader.ValidatedCapabilities.Contains(MappedRamCapability))
            {
                mapping.Populate(position, end - position, forWriting: false);
            }

            var memory = new IO.UnmanagedMemory(mapping.Pointer + position, (int)(end - position));
            var sequence = new ReadOnlySequence<byte>(memory.Memory);
            var isFinal = end == mapping.Length;
            var status = reader.Read(ref sequence, isFinal, ref visitor);
            var next = end - sequence.Length;
            progress?.Invoke(reader.Position);
            if (status != OperationStatus.NeedMoreData || isFinal)
            {
                return reader.Error;
            }

            if (next == position && window < int.MaxValue / 2)
            {
                window *= 2;
            }
            else
            {
                window = Math.Max(window, FullWindow);
            }

            position = next;
        }
    }

    private const string MappedRamCapability = "mapped-ram";

    /// <summary>Reads a whole captured return path; returns null on success or the error that stopped it.</summary>
    public static MigrationError? Read<TVisitor>(System.IO.Stream input, ReturnPathReader reader, ref TVisitor visitor,
        int chunkSize = InputWindow.DefaultSize)
        where TVisitor : IReturnPathVisitor, allows ref struct
    {
        var window = new InputWindow(chunkSize);
        while (true)
        {
            window.ReadFrom(input);
            var sequence = window.Unconsumed;
            var status = reader.Read(ref sequence, window.IsFinal, ref visitor);
            window.Consumed(sequence);
            if (status != OperationStatus.NeedMoreData || window.IsFinal)
            {
                return reader.Error;
            }
        }
    }
}
