using System.Buffers.Binary;
using System.Text.Json;
using System.Text.RegularExpressions;
using Qmig.Cli.Tests.State;
using Qmig.Wire.Streaming;
using Xunit;

namespace Qmig.Cli.Tests.Damage;

/// <summary>
/// The trailing VMDESCRIPTION of every bundled stream, damaged the ways a disk or a copy damages it
/// (a bad byte in the JSON, a bit flip, the JSON cut short, its length overwritten): stats, dump
/// and check report what they read before it and exit 1 with the offset and the rule; extract
/// writes the RAM images and says why state.json is not there.
/// </summary>
public sealed partial class DamagedVmDescriptionTests
{
    public static TheoryData<string> StreamsWithVmDescription()
    {
        var data = new TheoryData<string>();
        foreach (var path in BundledStreams.MainStreams.Where(p => BundledStreams.VmDescriptionRecord(p) is not null))
        {
            data.Add(BundledStreams.Name(path));
        }

        return data;
    }

    [Fact]
    public void MostBundledStreamsCarryAVmDescription() =>
        Assert.True(StreamsWithVmDescription().Count >= 10, $"only {StreamsWithVmDescription().Count} bundled streams have a vmdesc");

    /// <summary>JSON that cannot be decoded, with the byte that makes it so: QMIG1108 at exactly that byte.</summary>
    [Theory]
    [MemberData(nameof(StreamsWithVmDescription))]
    public void UndecodableJsonIsQmig1108AtTheBadByteAfterEveryRecordBeforeIt(string stream)
    {
        using var temp = new TempDirectory();
        var original = Undamaged(stream);
        var json = original.JsonStart;
        var bytes = File.ReadAllBytes(original.Path);
        var jsonBytes = bytes.AsSpan((int)json);

        // '@' where a property name starts (the shape of the failure users saw), a high bit set on
        // an ASCII byte (never UTF-8), an unescaped control character inside a string.
        var nameQuote = jsonBytes.IndexOf(", \""u8) + 2;
        var middle = jsonBytes.Length / 2;
        var insideString = jsonBytes.IndexOf("\"name\": \""u8) + 9;
        (string Kind, int At, byte Value)[] damages =
        [
            ("'@' for a quote", nameQuote, (byte)'@'),
            ("high bit set", middle, (byte)(jsonBytes[middle] | 0x80)),
            ("control character", insideString, 0x01),
        ];
        foreach (var (kind, at, value) in damages)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[json + at] = value;
            var path = temp.Combine(kind.Replace(' ', '-').Replace('\'', '_') + ".mig");
            File.WriteAllBytes(path, damaged);
            AssertUndecodableAt(original, path, json + at, kind);
        }
    }

    /// <summary>The JSON cut short, its record length fixed to match: the JSON ends inside a value.</summary>
    [Theory]
    [MemberData(nameof(StreamsWithVmDescription))]
    public void JsonCutShortIsQmig1108InsideTheRecord(string stream)
    {
        using var temp = new TempDirectory();
        var original = Undamaged(stream);
        var bytes = File.ReadAllBytes(original.Path);
        var keep = (int)((bytes.Length - original.JsonStart) / 2);
        var cut = bytes.AsSpan(0, (int)original.JsonStart + keep).ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(cut.AsSpan((int)original.JsonStart - 4), (uint)keep);
        var path = temp.Combine("cut.mig");
        File.WriteAllBytes(path, cut);

        var (code, _, error) = QmigInProcess.Run("check", path);
        Assert.Equal(1, code);
        var (offset, rule) = ErrorOf(path, error);
        Assert.Equal("QMIG1108", rule);
        Assert.InRange(offset, original.JsonStart, cut.Length);
    }

    /// <summary>
    /// The record's length overwritten: too long is a truncated stream, too short leaves JSON that
    /// ends early and bytes after the end, far over the cap is refused before anything is read.
    /// </summary>
    [Theory]
    [MemberData(nameof(StreamsWithVmDescription))]
    public void AnOverwrittenLengthIsReportedWithOffsetAndRule(string stream)
    {
        using var temp = new TempDirectory();
        var original = Undamaged(stream);
        var bytes = File.ReadAllBytes(original.Path);
        var lengthAt = (int)original.JsonStart - 4;
        var length = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(lengthAt));
        foreach (var overwritten in new[] { length + 1, length - 1, length / 2, 0u, 0xffffffffu })
        {
            var damaged = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt32BigEndian(damaged.AsSpan(lengthAt), overwritten);
            var path = temp.Combine($"length-{overwritten:x}.mig");
            File.WriteAllBytes(path, damaged);
            string[][] commands = [["stats", path, "--format", "json"], ["check", path], ["dump", path]];
            foreach (var args in commands)
            {
                var (code, _, error) = QmigInProcess.Run(args);
                var context = $"{args[0]} with length 0x{overwritten:x}: exit {code}, {error}";
                var (offset, rule) = ErrorOf(path, error, context);
                if (!original.HasFooters && code == 3)
                {
                    // No footers, and no vmdesc where a complete stream has it: the first device body
                    // cannot be delimited, which is what a stream without either is (QMIG1902).
                    Assert.Equal("QMIG1902", rule);
                    continue;
                }

                Assert.True(code == 1, context);
                Assert.InRange(offset, original.JsonStart - 5, damaged.Length);
            }
        }
    }

    /// <summary>Seeded bit flips anywhere in the JSON: still valid (exit 0) or exit 1 with the offset and the rule, never anything else.</summary>
    [Theory]
    [MemberData(nameof(StreamsWithVmDescription))]
    public void BitFlipsInTheJsonNeverEscapeAsUsageErrors(string stream)
    {
        using var temp = new TempDirectory();
        var original = Undamaged(stream);
        var bytes = File.ReadAllBytes(original.Path);
        var jsonLength = bytes.Length - (int)original.JsonStart;
        for (var seed = 0; seed < 12; seed++)
        {
            var random = new Random(seed);
            var damaged = (byte[])bytes.Clone();
            var at = (int)original.JsonStart + random.Next(jsonLength);
            damaged[at] ^= (byte)(1 << random.Next(8));
            var path = temp.Combine($"flip-{seed}.mig");
            File.WriteAllBytes(path, damaged);
            var (code, _, error) = QmigInProcess.Run("stats", path, "--format", "json");
            var context = $"{stream} seed {seed} (bit flip at 0x{at:x}): exit {code}, {error}";
            Assert.True(code is 0 or 1, context);
            if (code == 1)
            {
                var (offset, _) = ErrorOf(path, error, context);
                Assert.True(offset < damaged.Length, context);
            }
        }
    }

    /// <summary>extract: the RAM images are written, state.json is not, and stderr says why with the rule and the offset.</summary>
    [Theory]
    [InlineData("q35-devices/q35-devices.mig")]
    [InlineData("pc-32m-paused-qemu10/pc-32m-paused.mig")]
    [InlineData("pc-32m-no-footer/pc-32m-no-footer.mig")]
    public void ExtractWritesTheRamImagesAndSaysStateJsonCouldNotBeDecoded(string stream)
    {
        using var temp = new TempDirectory();
        var original = Undamaged(stream);
        var bytes = File.ReadAllBytes(original.Path);
        var at = original.JsonStart + bytes.AsSpan((int)original.JsonStart).IndexOf(", \""u8) + 2;
        bytes[at] = (byte)'@';
        var path = temp.Combine("damaged.mig");
        File.WriteAllBytes(path, bytes);

        var (code, _, error) = QmigInProcess.Run("extract", path, "-o", temp.Combine("out"));

        Assert.Equal(1, code);
        Assert.Contains($"{path}: state.json could not be decoded", error, StringComparison.Ordinal);
        Assert.Contains($"QMIG1108 at 0x{at:x}", error, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.Combine("out", "state.json")));
        Assert.False(File.Exists(temp.Combine("out", "desc.json")));
        var clean = QmigInProcess.Run("extract", original.Path, "-o", temp.Combine("clean"));
        Assert.Equal(0, clean.ExitCode);
        var images = Images(temp.Combine("clean", "ram"));
        Assert.NotEmpty(images);
        Assert.Equal(images, Images(temp.Combine("out", "ram")));
        foreach (var image in images)
        {
            Assert.True(
                File.ReadAllBytes(temp.Combine("clean", "ram", image)).AsSpan().SequenceEqual(File.ReadAllBytes(temp.Combine("out", "ram", image))),
                $"ram/{image} differs from the undamaged stream's");
        }
    }

    /// <summary>stats, check and dump on a stream whose JSON breaks at <paramref name="bad"/>.</summary>
    private static void AssertUndecodableAt(Original original, string path, long bad, string kind)
    {
        var stats = QmigInProcess.Run("stats", path, "--format", "json");
        var context = $"{BundledStreams.Name(original.Path)}, {kind} at 0x{bad:x}: exit {stats.ExitCode}, {stats.Error}";
        Assert.True(stats.ExitCode == 1, context);
        Assert.Equal((bad, "QMIG1108"), ErrorOf(path, stats.Error, context));
        Assert.DoesNotContain("qmig: ", stats.Error, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(stats.Output);
        var records = Records(report);
        if (original.HasFooters)
        {
            // Bodies are delimited by their footers: every record before the vmdesc is read and counted.
            Assert.Equal(original.Records.Where(r => r.Key != "VMDESCRIPTION"), records);
            Assert.Equal(original.JsonStart - 5, report.RootElement.GetProperty("consumed").GetInt64());
        }
        else
        {
            // Without footers nothing delimits a device body but the vmdesc: the first one stops the read.
            Assert.True(records.Sum(r => r.Value) < original.Records.Sum(r => r.Value), context);
        }

        var check = QmigInProcess.Run("check", path);
        Assert.Equal(1, check.ExitCode);
        Assert.Equal((bad, "QMIG1108"), ErrorOf(path, check.Error, context));

        var dump = QmigInProcess.Run("dump", path);
        Assert.Equal(1, dump.ExitCode);
        Assert.Equal((bad, "QMIG1108"), ErrorOf(path, dump.Error, context));
        if (original.HasFooters)
        {
            Assert.Contains($"0x{original.JsonStart - 6:x8}       1  EOF", dump.Output, StringComparison.Ordinal);
        }
    }

    private static (long Offset, string Rule) ErrorOf(string path, string error, string? context = null)
    {
        var match = ErrorLine().Match(error);
        Assert.True(match.Success && match.Groups["file"].Value == path, context ?? $"no FILE:0xOFFSET: error QMIGnnnn line in: {error}");
        return (Convert.ToInt64(match.Groups["offset"].Value, 16), match.Groups["rule"].Value);
    }

    private static SortedDictionary<string, long> Records(JsonDocument stats) =>
        new(stats.RootElement.GetProperty("records").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()), StringComparer.Ordinal);

    private static string[] Images(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).Order(StringComparer.Ordinal).ToArray();

    private static Original Undamaged(string stream)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", stream);
        var record = BundledStreams.VmDescriptionRecord(path) ?? throw new InvalidOperationException($"{stream} has no vmdesc");
        var (code, output, error) = QmigInProcess.Run("stats", path, "--format", "json");
        Assert.True(code == 0, $"the undamaged {stream}: exit {code}, {error}");
        using var report = JsonDocument.Parse(output);
        var records = Records(report);
        return new Original(path, record + 5, records, records.GetValueOrDefault("SECTION_FOOTER") > 0);
    }

    [GeneratedRegex(@"^(?<file>.+):0x(?<offset>[0-9a-f]+): error (?<rule>QMIG\d{4}): ", RegexOptions.Multiline)]
    private static partial Regex ErrorLine();

    private sealed record Original(string Path, long JsonStart, SortedDictionary<string, long> Records, bool HasFooters);
}
