using Qmig.TestSupport;
using Qmig.Wire.IO;
using Qmig.Wire.Streaming;
using Qmig.Wire.Tests.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.IO;

/// <summary>
/// Opening a real QEMU stream as it is found: alone in a file, behind a libvirt save image header
/// (laid out as libvirt's src/qemu/qemu_saveimage.h declares it, with a padded domain XML), at an
/// offset in a file, or after bytes to skip on a pipe. Each is read to its end and must give the
/// records of the stream read alone, at offsets counted from the start of the input.
/// </summary>
public sealed class MigrationInputTests : IDisposable
{
    private const string Stream = "data/pc-32m-paused/pc-32m-paused.mig";
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("qmig-input-");

    [Fact]
    public void AStreamAloneBeginsAtZeroWithItsTrailingVmDescription()
    {
        using var input = MigrationInput.OpenFile(Stream);
        Assert.Equal(0, input.StartOffset);
        Assert.Equal(new FileInfo(Stream).Length, input.Length);
        Assert.Null(input.LibvirtImage);
        Assert.NotNull(input.ReadTrailingVmDescription(out var undecodable));
        Assert.Null(undecodable);
        Assert.Equal(0, input.Stream.Position);
        var (error, counts, reader) = Read(input);
        Assert.Null(error);
        Assert.Equal(input.Length, reader.Position);
        Assert.Equal(Alone().Records, counts.Records);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void ALibvirtSaveImageIsReadFromTheStreamInside(bool bigEndian, bool partial)
    {
        var path = WriteImage(format: 0, bigEndian, partial);
        using var input = MigrationInput.OpenFile(path);
        var image = Assert.IsType<LibvirtSaveImage>(input.LibvirtImage);
        Assert.Equal(partial, image.Partial);
        Assert.Equal(LibvirtSaveImageFile.StreamOffset, input.StartOffset);
        Assert.Equal(input.StartOffset, input.Stream.Position);
        Assert.NotNull(input.ReadTrailingVmDescription(out _));
        Assert.Equal(input.StartOffset, input.Stream.Position);
        var (error, counts, reader) = Read(input);
        Assert.Null(error);
        Assert.Equal(new FileInfo(path).Length, reader.Position);
        Assert.Equal(Alone().Records, counts.Records);
    }

    [Fact]
    public void AnOffsetGivenIsTakenAsGivenEvenInALibvirtImage()
    {
        var path = WriteImage(format: 0, bigEndian: false, partial: false);
        using var input = MigrationInput.OpenFile(path, 0);
        Assert.Null(input.LibvirtImage);
        var (error, _, _) = Read(input);
        Assert.Equal(0, error?.Offset);
        Assert.Equal(MigrationRules.BadHeader.Id, error?.Rule.Id);
    }

    [Fact]
    public void ACompressedLibvirtImageIsRefusedAsUnsupported()
    {
        var path = WriteImage(format: 3, bigEndian: false, partial: false);
        var e = Assert.Throws<MigrationInputException>(() => MigrationInput.OpenFile(path));
        Assert.Equal(MigrationInputProblem.CompressedSaveImage, e.Problem);
        Assert.Equal("xz", e.LibvirtImage?.FormatName);
        Assert.True(e.Error.IsUnsupported);
        Assert.Contains($"tail -c +{LibvirtSaveImageFile.StreamOffset + 1} ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOffsetBeyondTheFileIsRefusedWithTheFileLength()
    {
        var length = new FileInfo(Stream).Length;
        var e = Assert.Throws<MigrationInputException>(() => MigrationInput.OpenFile(Stream, length + 1));
        Assert.Equal(MigrationInputProblem.StartBeyondEnd, e.Problem);
        Assert.Equal(length + 1, e.StartOffset);
        Assert.Equal(length, e.Length);
        Assert.Equal(MigrationRules.Truncated, e.Error.Rule);
    }

    [Fact]
    public void APipeSkipsTheBytesBeforeTheStream()
    {
        var bytes = File.ReadAllBytes(Stream);
        const int Skip = 100_000;
        using var input = MigrationInput.FromPipe(new OneWay([.. new byte[Skip], .. bytes]), Skip);
        Assert.Null(input.Length);
        Assert.Null(input.File);
        Assert.Null(input.ReadTrailingVmDescription(out var undecodable));
        Assert.Null(undecodable);
        var (error, counts, reader) = Read(input);
        Assert.Null(error);
        Assert.Equal(Skip + bytes.Length, reader.Position);
        Assert.Equal(Alone().Records, counts.Records);
    }

    [Fact]
    public void APipeThatEndsBeforeTheOffsetSaysHowMuchItHeld()
    {
        var e = Assert.Throws<MigrationInputException>(() => MigrationInput.FromPipe(new OneWay(new byte[1000]), 5000));
        Assert.Equal(MigrationInputProblem.StartBeyondEnd, e.Problem);
        Assert.Equal(1000, e.Length);
        Assert.Equal(5000, e.StartOffset);
    }

    private static RecordCounts Alone()
    {
        using var input = MigrationInput.OpenFile(Stream);
        var (error, counts, _) = Read(input);
        Assert.Null(error);
        return counts;
    }

    private static (MigrationError? Error, RecordCounts Counts, MigrationStreamReader Reader) Read(MigrationInput input)
    {
        var counts = new RecordCounts();
        var visitor = new CountingVisitor(counts);
        var reader = new MigrationStreamReader(new MigrationReaderOptions { StartOffset = input.StartOffset });
        return (MigrationStreamDriver.Read(input.Stream, reader, ref visitor), counts, reader);
    }

    private string WriteImage(uint format, bool bigEndian, bool partial) =>
        LibvirtSaveImageFile.Write(Path.Combine(_work.FullName, $"guest-{format}-{bigEndian}-{partial}.save"), Stream, format, bigEndian, partial);

    public void Dispose() => _work.Delete(recursive: true);

    /// <summary>A stream that can only be read front to back, as a pipe.</summary>
    private sealed class OneWay(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();

        public override long Length => throw new NotSupportedException();
    }
}
