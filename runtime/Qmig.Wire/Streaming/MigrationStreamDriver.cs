using System.Buffers;
using Qmig.Wire.ReturnPath;

namespace Qmig.Wire.Streaming;

/// <summary>Feeds a <see cref="System.IO.Stream"/> (a file, stdin, a socket) through a reader in large reads.</summary>
public static class MigrationStreamDriver
{
    /// <summary>Reads a whole main stream; returns null on success or the error that stopped it.</summary>
    public static MigrationError? Read<TVisitor>(System.IO.Stream input, MigrationStreamReader reader, ref TVisitor visitor,
        int chunkSize = ChunkedInput.DefaultChunkSize, Action<long>? progress = null)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var chunks = new ChunkedInput(input, chunkSize);
        while (true)
        {
            var sequence = chunks.Fill();
            var status = reader.Read(ref sequence, chunks.IsFinal, ref visitor);
            chunks.Advance(sequence);
            progress?.Invoke(reader.Position);
            if (status != OperationStatus.NeedMoreData || chunks.IsFinal)
            {
                return reader.Error;
            }
        }
    }

    /// <summary>Reads a whole captured return path; returns null on success or the error that stopped it.</summary>
    public static MigrationError? Read<TVisitor>(System.IO.Stream input, ReturnPathReader reader, ref TVisitor visitor,
        int chunkSize = ChunkedInput.DefaultChunkSize)
        where TVisitor : IReturnPathVisitor, allows ref struct
    {
        var chunks = new ChunkedInput(input, chunkSize);
        while (true)
        {
            var sequence = chunks.Fill();
            var status = reader.Read(ref sequence, chunks.IsFinal, ref visitor);
            chunks.Advance(sequence);
            if (status != OperationStatus.NeedMoreData || chunks.IsFinal)
            {
                return reader.Error;
            }
        }
    }
}
