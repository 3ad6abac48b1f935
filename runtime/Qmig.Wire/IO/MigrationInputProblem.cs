namespace Qmig.Wire.IO;

/// <summary>Why a <see cref="MigrationInput"/> could not be positioned at its migration stream.</summary>
public enum MigrationInputProblem
{
    /// <summary>A libvirt save image whose QEMU stream is compressed: it has to be decompressed before it can be read.</summary>
    CompressedSaveImage,

    /// <summary>The input ends before the offset where the stream was to begin.</summary>
    StartBeyondEnd,
}
