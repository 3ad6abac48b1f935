using System.Buffers;
using Xunit;

namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// One valid value of one generated record type, held as plain fields (FsCheck generates heap
/// values; the records themselves are mostly ref structs), with what the properties and the
/// allocation test need: the generated writers called with these values, and the generated
/// readers. <see cref="RecordCase{T, TS}"/> adds the checks that need the record type itself.
/// </summary>
public abstract record WireCase
{
    /// <summary>The generated type this case is a value of.</summary>
    public abstract Type RecordType { get; }

    /// <summary>
    /// The type is <c>-qmig-sized</c>: its standalone reader takes the end of its input as the end
    /// of the record (a <c>repeat: eos</c> field), so a shorter input is a different, possibly
    /// valid, record rather than a cut-off one.
    /// </summary>
    public virtual bool IsSized => false;

    /// <summary>For a sized type, how many bytes come before the field that runs to the end of the input.</summary>
    public virtual int SizedHeadLength => 0;

    /// <summary>The generated <c>GetSize</c> with this case's values.</summary>
    public abstract int GetSize();

    /// <summary>The generated <c>TryWrite</c> with this case's values.</summary>
    public abstract OperationStatus TryWrite(Span<byte> destination, out int written);

    /// <summary>The generated <c>Write(IBufferWriter)</c> with this case's values.</summary>
    public abstract void Write(IBufferWriter<byte> writer);

    /// <summary>The generated span reader, with this case's parameters.</summary>
    public abstract OperationStatus Read(ReadOnlySpan<byte> source, out int consumed, out WireError error);

    /// <summary>The generated sequence reader, with this case's parameters.</summary>
    public abstract OperationStatus Read(in ReadOnlySequence<byte> source, out long consumed, out WireError error);

    /// <summary>
    /// Property (a): <paramref name="encoded"/> (this case written by the generated writer) reads
    /// back as the record these values describe, consuming exactly the written bytes even when
    /// <paramref name="tail"/> follows, and writes back to the same bytes.
    /// </summary>
    public abstract void AssertReadsBack(byte[] encoded, byte[] tail);

    /// <summary>
    /// Part of property (a), so that it cannot pass vacuously: the records read from
    /// <paramref name="encoded"/> and from <paramref name="other"/> (another value of the same
    /// type and parameters) are ContentEquals, in both shapes, exactly when the bytes are equal.
    /// </summary>
    public abstract void AssertEqualExactlyWhenBytesAre(byte[] encoded, byte[] other);

    /// <summary>Property (b): the sequence reader reads <paramref name="sequence"/> (the same bytes, cut) as the span reader reads <paramref name="encoded"/>.</summary>
    public abstract void AssertSequenceReadsSame(byte[] encoded, in ReadOnlySequence<byte> sequence);

    /// <summary>
    /// Whatever the readers make of arbitrary <paramref name="input"/>: both shapes agree on the
    /// status, the length and the content, and an accepted record writes back to exactly the bytes
    /// it was read from.
    /// </summary>
    public abstract void AssertAnyInputIsHandled(byte[] input, in ReadOnlySequence<byte> sequence);

    /// <summary>
    /// This case written with the generated writer, after checking that <c>GetSize</c>,
    /// <c>TryWrite</c> (also into a destination one byte too small) and <c>Write(IBufferWriter)</c>
    /// agree.
    /// </summary>
    public byte[] Encode()
    {
        var size = GetSize();
        Assert.True(size >= 0, $"GetSize says the generated values break the spec: {this}");
        var bytes = new byte[size];
        Assert.Equal(OperationStatus.Done, TryWrite(bytes, out var written));
        Assert.Equal(size, written);
        if (size > 0)
        {
            Assert.Equal(OperationStatus.DestinationTooSmall, TryWrite(bytes.AsSpan(0, size - 1), out _));
        }

        // A writer that starts with one byte of room makes Write take its "measure, then ask for more" path.
        var writer = new ArrayBufferWriter<byte>(1);
        Write(writer);
        Assert.True(writer.WrittenSpan.SequenceEqual(bytes), $"Write(IBufferWriter) and TryWrite disagree: {Convert.ToHexString(writer.WrittenSpan)} vs {Convert.ToHexString(bytes)}");
        return bytes;
    }

    /// <summary>This case written with the generated writer, without the checks of <see cref="Encode"/> (for generators that nest one record in another).</summary>
    public byte[] EncodeForPayload()
    {
        var size = GetSize();
        var bytes = new byte[Math.Max(size, 0)];
        if (size < 0 || TryWrite(bytes, out var written) != OperationStatus.Done || written != size)
        {
            throw new InvalidOperationException($"The generator made a value the writer rejects: {this}");
        }

        return bytes;
    }
}
