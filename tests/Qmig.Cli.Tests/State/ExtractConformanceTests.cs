using System.Security.Cryptography;
using System.Text.Json;
using Qmig.Cli.Commands;
using Qmig.Wire.Extraction;
using Qmig.Wire.IO;
using Qmig.Wire.VmState;
using Xunit;

namespace Qmig.Cli.Tests.State;

/// <summary>
/// <c>qmig extract</c> against what analyze-migration.py -x of the QEMU that made each stream
/// (7.2 or 10.0) wrote from it: state.json and desc.json byte for byte, every RAM image's size
/// and sha256.
/// </summary>
public class ExtractConformanceTests(ExtractedStreams extracted) : IClassFixture<ExtractedStreams>
{
    public static TheoryData<string> Streams => new([.. Fixtures.Qemu72, .. Fixtures.Qemu10]);

    public static TheoryData<string> Qemu72Streams => new(Fixtures.Qemu72);

    [Theory]
    [MemberData(nameof(Streams))]
    public void State_json_is_byte_identical_to_analyze_migration(string name)
    {
        var (code, directory, errors) = extracted.Get(name);
        Assert.True(code == 0, errors);
        AssertSameBytes(Fixtures.Reference(name, "state.json"), Path.Combine(directory, "state.json"));
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Desc_json_is_byte_identical_to_analyze_migration(string name)
    {
        var (code, directory, errors) = extracted.Get(name);
        Assert.True(code == 0, errors);
        AssertSameBytes(Fixtures.Reference(name, "desc.json"), Path.Combine(directory, "desc.json"));
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Ram_images_have_the_reference_sizes_and_sha256(string name)
    {
        var (code, directory, errors) = extracted.Get(name);
        Assert.True(code == 0, errors);
        var expected = File.ReadAllLines(Fixtures.Reference(name, "ram-images.txt"))
            .Where(l => l.Length > 0)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0][2..], p => (Size: long.Parse(p[1]["size=".Length..]), Sha: p[3]["sha256=".Length..]));
        var ram = Path.Combine(directory, "ram");
        var actual = Directory.EnumerateFiles(ram, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(ram, f).Replace('\\', '/'), f => (Size: new FileInfo(f).Length, Sha: Sha256(f)));
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), actual.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void The_shape_follows_the_qemu_that_wrote_the_vmdesc(string name)
    {
        using var temp = new TempDirectory();
        using var input = MigrationInput.OpenFile(Fixtures.Stream(name));
        var extraction = StreamExtraction.Run(input, temp.Combine("ram"));
        Assert.Equal(Fixtures.Qemu10.Contains(name) ? AnalyzerShape.Qemu10 : AnalyzerShape.Qemu72, extraction.State.Shape);
    }

    [Theory]
    [MemberData(nameof(Qemu72Streams))]
    public void On_a_qemu_72_vmdesc_the_10_shape_is_the_same_state_json(string name)
    {
        using var temp = new TempDirectory();
        var code = Program.Run(["extract", Fixtures.Stream(name), "-o", temp.Path, "--analyzer-shape", "10"], new StringWriter(), new StringWriter());
        Assert.Equal(0, code);
        AssertSameBytes(Fixtures.Reference(name, "state.json"), temp.Combine("state.json"));
    }

    /// <summary>
    /// QEMU 7.2's script keeps only the last element of an array whose last entry has no index,
    /// as QEMU 10.0 writes them: the floppy controller's two drives become the second drive.
    /// </summary>
    [Fact]
    public void The_72_shape_of_a_qemu_10_stream_keeps_the_last_element_of_an_array_of_structs()
    {
        using var temp = new TempDirectory();
        var code = Program.Run(["extract", Fixtures.Stream("pc-32m-paused-qemu10"), "-o", temp.Path, "--analyzer-shape", "7.2"], new StringWriter(), new StringWriter());
        Assert.Equal(0, code);

        using var reference = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Reference("pc-32m-paused-qemu10", "state.json")));
        using var state = JsonDocument.Parse(File.ReadAllBytes(temp.Combine("state.json")));
        var drives = reference.RootElement.GetProperty("fdc (26)").GetProperty("state").GetProperty("drives");
        Assert.Equal(2, drives.GetArrayLength());
        Assert.False(JsonElement.DeepEquals(drives[0], drives[1]));
        Assert.True(JsonElement.DeepEquals(drives[1], state.RootElement.GetProperty("fdc (26)").GetProperty("state").GetProperty("drives")));
    }

    [Fact]
    public void Without_a_vmdesc_the_ram_images_are_written_and_the_exit_code_is_2()
    {
        using var temp = new TempDirectory();
        var (stream, vmdesc) = SplitOffVmdesc(temp, "q35-devices");
        var output = new StringWriter();
        var errors = new StringWriter();

        var code = Program.Run(["extract", stream, "-o", temp.Combine("out")], output, errors);

        Assert.Equal(2, code);
        Assert.Contains("state.json needs a vmdesc", errors.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(temp.Combine("out", "state.json")));
        Assert.False(File.Exists(temp.Combine("out", "desc.json")));
        Assert.Equal(10, Directory.EnumerateFiles(temp.Combine("out", "ram"), "*", SearchOption.AllDirectories).Count());
        Assert.True(vmdesc.Length > 0);
    }

    [Fact]
    public void With_vmdesc_option_a_stream_without_one_gives_the_reference_files()
    {
        using var temp = new TempDirectory();
        var (stream, vmdesc) = SplitOffVmdesc(temp, "q35-devices");

        var code = Program.Run(["extract", stream, "-o", temp.Combine("out"), "--vmdesc", vmdesc], new StringWriter(), new StringWriter());

        Assert.Equal(0, code);
        AssertSameBytes(Fixtures.Reference("q35-devices", "state.json"), temp.Combine("out", "state.json"));
        AssertSameBytes(Fixtures.Reference("q35-devices", "desc.json"), temp.Combine("out", "desc.json"));
    }

    [Fact]
    public void A_body_that_does_not_match_its_vmdesc_is_reported_with_offset_and_path_and_exits_1()
    {
        using var temp = new TempDirectory();
        var (stream, vmdescPath) = SplitOffVmdesc(temp, "q35-devices");
        // The outer struct size still delimits the body, but the x87 register's inner tmp now claims 12 of its 10 bytes.
        var vmdesc = File.ReadAllText(vmdescPath);
        const string tmp = "\"name\": \"tmp\", \"type\": \"tmp\", \"vmsd_name\": \"fpreg_tmp\"";
        Assert.Contains(tmp, vmdesc, StringComparison.Ordinal);
        var at = vmdesc.IndexOf(tmp, StringComparison.Ordinal);
        var size = vmdesc.IndexOf("\"size\": 10", at, StringComparison.Ordinal);
        File.WriteAllText(vmdescPath, vmdesc[..size] + "\"size\": 12" + vmdesc[(size + "\"size\": 10".Length)..]);
        var errors = new StringWriter();

        var code = ExtractCommand.Run(stream, temp.Combine("out"), vmdescPath, 4096, errors);

        Assert.Equal(1, code);
        Assert.Matches(@":0x[0-9a-f]+: error QMIG1601: device 'cpu' .* at cpu\.cpu/[a-z_]+: subsection", errors.ToString());
        using var state = JsonDocument.Parse(File.ReadAllBytes(temp.Combine("out", "state.json")));
        Assert.Contains(state.RootElement.EnumerateObject(), p => p.Name.StartsWith("cpu (", StringComparison.Ordinal));
    }

    /// <summary>Writes the stream without its trailing vmdesc and the vmdesc as a separate file.</summary>
    internal static (string Stream, string Vmdesc) SplitOffVmdesc(TempDirectory temp, string name)
    {
        var bytes = File.ReadAllBytes(Fixtures.Stream(name));
        using var file = File.OpenRead(Fixtures.Stream(name));
        var at = (int)Wire.Streaming.VmDescriptionDocument.LocateInFile(file, 64 << 20)!.Value;
        var stream = temp.Combine(name + "-novmdesc.mig");
        var vmdesc = temp.Combine(name + "-vmdesc.json");
        File.WriteAllBytes(stream, bytes[..(at + 1)]);
        File.WriteAllBytes(vmdesc, bytes[(at + 6)..]);
        return (stream, vmdesc);
    }

    private static void AssertSameBytes(string expectedPath, string actualPath)
    {
        var expected = File.ReadAllBytes(expectedPath);
        var actual = File.ReadAllBytes(actualPath);
        var common = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(common == expected.Length && common == actual.Length,
            $"{actualPath} differs from {expectedPath} at byte {common} (lengths {actual.Length} and {expected.Length})");
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
