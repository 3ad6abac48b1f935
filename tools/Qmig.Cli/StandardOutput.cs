using System.Text;

namespace Qmig.Cli;

/// <summary>
/// Standard output as bytes, for the verbs that write JSON or large dumps through a stream: the
/// process's own stdout when the verb writes to the console, else a stream that hands the text to
/// the writer it was given (a test that runs qmig in-process through <see cref="Program.Run"/>).
/// </summary>
internal static class StandardOutput
{
    public static Stream Open(TextWriter output) =>
        ReferenceEquals(output, Console.Out) ? Console.OpenStandardOutput() : new TextWriterStream(output);

    /// <summary>UTF-8 bytes decoded into a writer; a character split across writes is kept until its last byte.</summary>
    private sealed class TextWriterStream(TextWriter writer) : Stream
    {
        private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetDecoder();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var chars = new char[_decoder.GetCharCount(buffer, flush: false)];
            var written = _decoder.GetChars(buffer, chars, flush: false);
            writer.Write(chars, 0, written);
        }

        public override void Flush() => writer.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
