using System.Buffers;

namespace Qmig.Wire.Streaming;

/// <summary>
/// Feeds a <see cref="System.IO.Stream"/> (a file, stdin, a socket) through a
/// <see cref="MigrationStreamReader"/> in large reads, keeping only the unread tail in memory.
/// </summary>
public static class MigrationStreamDriver
{
    public const int DefaultChunkSize = 1 << 20;

    /// <summary>Reads the whole stream; returns null on success or the error that stopped it.</summary>
    public static MigrationError? Read<TVisitor>(System.IO.Stream input, MigrationStreamReader reader, ref TVisitor visitor,
        int chunkSize = DefaultChunkSize, Action<long>? progress = null)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var buffer = new byte[chunkSize];
        var start = 0;
        var count = 0;
        var final = false;
        while (true)
        {
            if (!final && start + count < buffer.Length)
            {
                var read = input.Read(buffer, start + count, buffer.Length - start - count);
                if (read == 0)
                {
                    final = true;
                }

                count += read;
            }

            var sequence = new ReadOnlySequence<byte>(buffer, start, count);
            var status = reader.Read(ref sequence, final, ref visitor);
            var used = count - (int)sequence.Length;
            start += used;
            count -= used;
            progress?.Invoke(reader.Position);
            switch (status)
            {
                case OperationStatus.Done:
                    return null;
                case OperationStatus.InvalidData:
                    return reader.Error;
            }

            if (final)
            {
                // Only an incomplete record can remain; the reader has reported it already.
                return reader.Error;
            }

            if (start + count == buffer.Length)
            {
                // Keep the unread tail; grow only when one record needs more than the buffer holds.
                if (start == 0)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                else
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, count);
                    start = 0;
                }
            }
        }
    }
}
