using System.Text;
using Qmig.Wire.Streaming;
using Xunit;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>
/// Whether a vmdesc decodes is decided by <see cref="VmDescriptionDocument.Validate"/>, which names
/// the first bad byte (counted from where the JSON lies in its file) and rule QMIG1108; the reader
/// asks it at the VMDESCRIPTION record, so a piped stream gets the same error as a file.
/// </summary>
public class VmDescriptionDecodingTests
{
    [Theory]
    [InlineData("""{"page_size": 4096, @"devices": []}""", 20, "invalid start of a property name")]
    [InlineData("""{"page_size": 4096, "devices": [}""", 32, "")]
    [InlineData("""{"page_size": 4096, "devices": [""", 31, "")]
    [InlineData("{\"page_size\": 4096,\n\"devices\": [1 2]}", 34, "")]
    [InlineData("{\"name\": \"a\u0001\"}", 11, "")]
    [InlineData("""{"name": "\ud800"}""", 9, "lone UTF-16 surrogate")]
    public void TheErrorNamesTheFirstBadByte(string json, int bad, string says)
    {
        const long at = 0x1000;
        var error = VmDescriptionDocument.Validate(Encoding.UTF8.GetBytes(json), at);

        Assert.NotNull(error);
        Assert.Equal(MigrationRules.VmDescriptionUndecodable, error.Rule);
        Assert.Equal(at + bad, error.Offset);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
        Assert.False(VmDescriptionDocument.TryParse(Encoding.UTF8.GetBytes(json), at, out _, out var parseError));
        Assert.Equal(error, parseError);
    }

    [Fact]
    public void BytesThatAreNotUtf8AreNamed()
    {
        var json = """{"devices": [{"name": "piix4_pm"}]}"""u8.ToArray();
        json[24] |= 0x80;

        var error = VmDescriptionDocument.Validate(json, 7);

        Assert.Equal(7 + 24, error!.Offset);
        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestingDeeperThanTheCapIsNamedWhereItGoesTooDeep()
    {
        var json = Encoding.ASCII.GetBytes(new string('[', VmDescriptionDocument.MaxDepth + 1) + new string(']', VmDescriptionDocument.MaxDepth + 1));

        var error = VmDescriptionDocument.Validate(json, 0);

        Assert.Equal(MigrationRules.VmDescriptionUndecodable, error!.Rule);
        Assert.Equal(VmDescriptionDocument.MaxDepth, error.Offset);
    }

    /// <summary>
    /// JSON of the wrong shape decodes; entries that are not objects describe nothing, values of the
    /// wrong kind count as absent (a field without a numeric size adds nothing), and sizes that are
    /// negative or too large to add up leave the body size unknown instead of throwing.
    /// </summary>
    [Theory]
    [InlineData("[]", 0, null)]
    [InlineData("4096", 0, null)]
    [InlineData("""{"page_size": "4096", "devices": {}}""", 0, null)]
    [InlineData("""{"devices": [1, "x", {"name": 5, "instance_id": "0", "fields": [3, {"size": "4"}]}]}""", 1, 0L)]
    [InlineData("""{"devices": [{"name": "a", "fields": [{"size": 9223372036854775807, "array_len": 4}]}]}""", 1, null)]
    [InlineData("""{"devices": [{"name": "a", "fields": [{"size": -4}]}]}""", 1, null)]
    [InlineData("""{"devices": [{"name": "a", "fields": [{"size": 4}], "subsections": [{"vmsd_name": "s", "fields": [{"size": -1}]}]}]}""", 1, null)]
    [InlineData("""{"devices": [{"name": "a", "fields": [{"size": 4, "array_len": 2}], "subsections": [{"vmsd_name": "s", "fields": [{"size": 1}]}]}]}""", 1, 8L + 1 + 1 + 1 + 4 + 1)]
    public void JsonOfTheWrongShapeDescribesNothingInsteadOfThrowing(string json, int devices, long? bodySize)
    {
        Assert.True(VmDescriptionDocument.TryParse(Encoding.UTF8.GetBytes(json), 0, out var document, out var error), error?.ToString());
        Assert.Null(document.PageSize);
        Assert.Equal(devices, document.Devices.Count);
        Assert.All(document.Devices, device => Assert.Equal(bodySize, device.BodySize));
    }

    [Fact]
    public void AStreamReadFromAPipeGetsTheErrorAtTheBadByteAfterEveryRecordBeforeIt()
    {
        var path = Path.Combine("data", "q35-devices", "q35-devices.mig");
        var bytes = File.ReadAllBytes(path);
        long eof;
        using (var file = File.OpenRead(path))
        {
            eof = VmDescriptionDocument.LocateInFile(file, 64 << 20)!.Value;
        }

        var bad = (int)eof + 6 + 1;
        bytes[bad] = (byte)'@';
        var counts = new RecordCounts();
        var visitor = new CountingVisitor(counts);

        var error = MigrationStreamDriver.Read(new MemoryStream(bytes), new MigrationStreamReader(), ref visitor);

        Assert.Equal(MigrationRules.VmDescriptionUndecodable, error!.Rule);
        Assert.Equal(bad, error.Offset);
        Assert.Equal(eof + 1, counts.LastEnd);
        Assert.Equal(1, counts.Records["EOF"]);
        Assert.False(counts.Records.ContainsKey("VMDESCRIPTION"));

        var damaged = Path.Combine(Path.GetTempPath(), $"qmig-vmdesc-{Guid.NewGuid():n}.mig");
        try
        {
            File.WriteAllBytes(damaged, bytes);
            Assert.Equal(error, Assert.Throws<MigrationFormatException>(() => VmDescriptionDocument.ReadFromFile(damaged)).Error);
        }
        finally
        {
            File.Delete(damaged);
        }
    }
}
