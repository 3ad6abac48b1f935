using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Qmig.Wire.Extraction;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Wire.Tests.Streaming;

/// <summary>
/// Every real stream with a <c>tests/data/*/expected-counts.json</c> (made by
/// <c>tests/fixtures/make-more-fixtures.sh</c>; the counts come from <c>tests/fixtures/walk_stream.py</c>,
/// an independent Python walker) is read by <see cref="MigrationStreamReader"/> (or, for a captured
/// return path, <see cref="ReturnPathReader"/>) to its last byte, and its record, command, RAM flag,
/// RAM block and return-path message counts must equal the expected ones.
/// </summary>
public class MoreFixtureTests(ITestOutputHelper output)
{
    private static readonly string DataDir = Path.Combine(AppContext.BaseDirectory, "data");

    /// <summary>The feature fixtures that must be present (a missing copy must not shrink the theory silently).</summary>
    private static readonly string[] RequiredFixtures =
    [
        "pc-32m-xbzrle", "pc-32m-compress", "pc-32m-ignore-shared-uuid", "pc-32m-no-vmdesc", "pc-32m-no-footer",
        "pc-32m-postcopy", "pc-2m-mapped-ram-qemu10", "pc-2m-mapped-ram-multifd-qemu10", "pc-32m-return-path-qemu10",
        "pc-32m-postcopy-qemu10", "pc-32m-postcopy-preempt",
    ];

    /// <summary>(folder, stream file) for every stream an expected-counts.json describes.</summary>
    public static TheoryData<string, string> Streams
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var json in Directory.GetFiles(DataDir, "expected-counts.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var folder = Path.GetFileName(Path.GetDirectoryName(json))!;
                foreach (var (file, _) in ExpectedPerFile(folder))
                {
                    data.Add(folder, file);
                }
            }

            return data;
        }
    }

    [Fact]
    public void EveryFeatureFixtureHasExpectedCounts()
    {
        var missing = RequiredFixtures.Where(f => !File.Exists(Path.Combine(DataDir, f, "expected-counts.json"))).ToList();
        Assert.True(missing.Count == 0, $"tests/data is missing expected-counts.json for: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void ReadsToItsLastByteWithTheIndependentCounts(string folder, string file)
    {
        var path = Path.Combine(DataDir, folder, file);
        var expected = ExpectedPerFile(folder).Single(e => e.File == file).Counts;
        if (file.EndsWith(".bin", StringComparison.Ordinal))
        {
            CheckReturnPath(path, expected);
            return;
        }

        if (file.Contains("preempt", StringComparison.Ordinal))
        {
            CheckPreemptChannel(folder, path, expected);
            return;
        }

        // Read with every vmdesc available (the stream's own, or twin-vmdesc.json for a stream without one)
        // and, when the sections have footers, also without any (device bodies delimited by footers);
        // in large chunks and in small odd ones (resumption).
        var variants = new List<(string Name, VmDescriptionDocument? Vmdesc)>();
        var own = VmDescriptionDocument.ReadFromFile(path);
        var twin = Path.Combine(DataDir, folder, "twin-vmdesc.json");
        if (own is not null)
        {
            variants.Add(("own vmdesc", own));
        }
        else if (File.Exists(twin))
        {
            variants.Add(("twin-vmdesc.json", VmDescriptionDocument.Parse(File.ReadAllBytes(twin))));
        }

        if (expected.GetProperty("footers").GetBoolean())
        {
            variants.Add(("no vmdesc", null));
        }

        Assert.NotEmpty(variants);
        var problems = new List<string>();
        foreach (var (name, vmdesc) in variants)
        {
            foreach (var chunk in new[] { 64 * 1024, 4093 })
            {
                var label = $"{folder}/{file} ({name}, {chunk}-byte chunks)";
                var error = ReadMain(path, vmdesc, chunk, out var tally, out var reader);
                if (error is not null)
                {
                    problems.Add($"{label}: the reader stopped: {error.Format(file)}");
                    continue;
                }

                if (!reader.IsCompleted)
                {
                    problems.Add($"{label}: the reader did not complete (position {reader.Position})");
                }

                problems.AddRange(Compare(label, tally, expected, reader.Position));
                output.WriteLine($"{label}: {tally}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Folders with a loaded-ram.json: the pc.ram a paused destination QEMU built from the stream.</summary>
    public static TheoryData<string> LoadedRam
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var json in Directory.GetFiles(DataDir, "loaded-ram.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(Path.GetDirectoryName(json))!);
            }

            return data;
        }
    }

    /// <summary>
    /// The RAM image built from the stream (every ZERO, PAGE, XBZRLE and COMPRESS_PAGE record applied by
    /// <see cref="RamImageSet"/>) equals, byte for byte, the pc.ram QEMU itself loaded from it.
    /// </summary>
    [Theory]
    [MemberData(nameof(LoadedRam))]
    public void ExtractedPcRamEqualsWhatQemuLoaded(string folder)
    {
        var (file, expected) = ExpectedPerFile(folder).Single();
        var path = Path.Combine(DataDir, folder, file);
        var loaded = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(DataDir, folder, "loaded-ram.json"))).RootElement.GetProperty("pc.ram");
        var directory = Path.Combine(Path.GetTempPath(), $"qmig-loaded-ram-{folder}-{Environment.ProcessId}");
        try
        {
            MigrationError? error;
            using (var images = new RamImageSet(directory, 4096))
            {
                var visitor = new RamImageVisitor(images);
                var reader = new MigrationStreamReader(new MigrationReaderOptions { VmDescription = VmDescriptionDocument.ReadFromFile(path) });
                using var stream = File.OpenRead(path);
                error = MigrationStreamDriver.Read(stream, reader, ref visitor);
            }

            Assert.True(error is null, $"{folder}/{file}: the reader stopped: {error?.Format(file)}");
            var image = File.ReadAllBytes(Path.Combine(directory, RamImageSet.RelativePath("pc.ram")));
            Assert.Equal(loaded.GetProperty("size").GetInt64(), image.LongLength);
            Assert.True(loaded.GetProperty("sha256").GetString() == Convert.ToHexStringLower(SHA256.HashData(image)),
                $"{folder}/{file}: the extracted pc.ram (sha256 {Convert.ToHexStringLower(SHA256.HashData(image))}) differs from the pc.ram QEMU loaded (loaded-ram.json: {loaded.GetProperty("sha256").GetString()})");
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>
    /// A postcopy-preempt channel: bare RAM records against the blocks of the folder's main stream
    /// (postcopy-forward.mig), read to the last byte in large and in odd small chunks.
    /// </summary>
    private void CheckPreemptChannel(string folder, string path, JsonElement expected)
    {
        var main = new MigrationStreamReader();
        var ignore = new TallyVisitor(new Tally());
        using (var stream = File.OpenRead(Path.Combine(DataDir, folder, "postcopy-forward.mig")))
        {
            Assert.Null(MigrationStreamDriver.Read(stream, main, ref ignore));
        }

        var problems = new List<string>();
        foreach (var chunk in new[] { 64 * 1024, 4093 })
        {
            var label = $"{folder}/{Path.GetFileName(path)} (preempt channel, {chunk}-byte chunks)";
            var reader = new MigrationStreamReader(main.PreemptChannelOptions());
            var tally = new Tally();
            var visitor = new TallyVisitor(tally);
            foreach (var block in main.Blocks)
            {
                tally.Blocks[block.Name] = (block.UsedLength, 0);
            }

            using (var stream = File.OpenRead(path))
            {
                var error = MigrationStreamDriver.Read(stream, reader, ref visitor, chunk);
                Assert.True(error is null, $"{label}: the reader stopped: {error?.Format(path)}");
            }

            Assert.True(reader.IsCompleted, $"{label}: not complete at {reader.Position}");
            var ram = expected.GetProperty("ram");
            if (reader.Position != expected.GetProperty("consumed").GetInt64())
            {
                problems.Add($"{label}: consumed {reader.Position}, expected {expected.GetProperty("consumed").GetInt64()}");
            }

            problems.AddRange(CompareCounts(label, "ram.flags", tally.RamFlags, ram.GetProperty("flags")));
            if (tally.RamRecords != ram.GetProperty("records").GetInt32())
            {
                problems.Add($"{label}: ram.records: reader {tally.RamRecords}, expected {ram.GetProperty("records").GetInt32()}");
            }

            foreach (var block in ram.GetProperty("blocks").EnumerateObject())
            {
                if (tally.Blocks[block.Name].Pages != block.Value.GetProperty("pages").GetInt32())
                {
                    problems.Add($"{label}: ram.blocks['{block.Name}'].pages: reader {tally.Blocks[block.Name].Pages}, expected {block.Value.GetProperty("pages").GetInt32()}");
                }
            }

            output.WriteLine($"{label}: {tally}");
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private void CheckReturnPath(string path, JsonElement expected)
    {
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var visitor = new MessageCounter(tally);
        var reader = new ReturnPathReader();
        using (var stream = File.OpenRead(path))
        {
            var error = MigrationStreamDriver.Read(stream, reader, ref visitor, chunkSize: 7);
            Assert.True(error is null, $"{path}: the return-path reader stopped: {error?.Format(path)}");
        }

        var problems = new List<string>();
        if (reader.Position != expected.GetProperty("consumed").GetInt64() || reader.Position != new FileInfo(path).Length)
        {
            problems.Add($"{path}: consumed {reader.Position}, expected {expected.GetProperty("consumed").GetInt64()} (file {new FileInfo(path).Length})");
        }

        problems.AddRange(CompareCounts(path, "messages", tally, expected.GetProperty("messages")));
        output.WriteLine($"{path}: {string.Join(", ", tally.Select(k => $"{k.Key}={k.Value}"))}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static MigrationError? ReadMain(string path, VmDescriptionDocument? vmdesc, int chunkSize, out Tally tally, out MigrationStreamReader reader)
    {
        reader = new MigrationStreamReader(new MigrationReaderOptions { VmDescription = vmdesc });
        tally = new Tally();
        var visitor = new TallyVisitor(tally);
        using var stream = File.OpenRead(path);
        return MigrationStreamDriver.Read(stream, reader, ref visitor, chunkSize);
    }

    private static IEnumerable<string> Compare(string label, Tally tally, JsonElement expected, long position)
    {
        var consumed = expected.GetProperty("consumed").GetInt64();
        if (position != consumed || tally.LastEnd != consumed)
        {
            yield return $"{label}: the reader ended at {position} (last record ends at {tally.LastEnd}), the independent walk at {consumed}";
        }

        foreach (var p in CompareCounts(label, "records", tally.Records, expected.GetProperty("records")))
        {
            yield return p;
        }

        foreach (var p in CompareCounts(label, "commands", tally.Commands, expected.GetProperty("commands")))
        {
            yield return p;
        }

        var ram = expected.GetProperty("ram");
        foreach (var p in CompareCounts(label, "ram.flags", tally.RamFlags, ram.GetProperty("flags")))
        {
            yield return p;
        }

        if (tally.RamRecords != ram.GetProperty("records").GetInt32())
        {
            yield return $"{label}: ram.records: reader {tally.RamRecords}, expected {ram.GetProperty("records").GetInt32()}";
        }

        foreach (var p in CompareMappedRam(label, tally, expected, ram.GetProperty("page_size").GetInt32()))
        {
            yield return p;
        }

        var expectedBlocks = ram.GetProperty("blocks").EnumerateObject().ToDictionary(b => b.Name, b => b.Value);
        foreach (var name in expectedBlocks.Keys.Union(tally.Blocks.Keys).Order(StringComparer.Ordinal))
        {
            if (!tally.Blocks.TryGetValue(name, out var got))
            {
                yield return $"{label}: ram.blocks: the reader saw no block '{name}'";
            }
            else if (!expectedBlocks.TryGetValue(name, out var want))
            {
                yield return $"{label}: ram.blocks: the reader saw a block '{name}' the independent walk did not";
            }
            else if (got.UsedLength != want.GetProperty("used_length").GetUInt64() || got.Pages != want.GetProperty("pages").GetInt32())
            {
                yield return $"{label}: ram.blocks['{name}']: reader used_length {got.UsedLength}, pages {got.Pages}; expected {want.GetProperty("used_length").GetUInt64()}, {want.GetProperty("pages").GetInt32()}";
            }
        }
    }

    /// <summary>expected-counts.json's mapped_ram: each block's regions and the set bits of its bitmap; every present page must have been read.</summary>
    private static IEnumerable<string> CompareMappedRam(string label, Tally tally, JsonElement expected, int pageSize)
    {
        var want = expected.TryGetProperty("mapped_ram", out var m) ? m.EnumerateObject().ToDictionary(p => p.Name, p => p.Value) : [];
        foreach (var name in want.Keys.Union(tally.MappedRam.Keys).Order(StringComparer.Ordinal))
        {
            if (!want.TryGetValue(name, out var w) || !tally.MappedRam.TryGetValue(name, out var g))
            {
                yield return $"{label}: mapped_ram['{name}']: present on one side only";
                continue;
            }

            var expectedLayout = (w.GetProperty("bitmap_offset").GetUInt64(), w.GetProperty("bitmap_bytes").GetInt32(), w.GetProperty("pages_offset").GetUInt64(), w.GetProperty("pages_present").GetInt64());
            var gotLayout = (g.BitmapOffset, g.BitmapBytes, g.PagesOffset, g.PagesPresent);
            if (expectedLayout != gotLayout || g.BytesRead != g.PagesPresent * pageSize)
            {
                yield return $"{label}: mapped_ram['{name}']: reader {gotLayout} with {g.BytesRead} page bytes read, expected {expectedLayout}";
            }
        }
    }

    private static IEnumerable<string> CompareCounts(string label, string what, IReadOnlyDictionary<string, int> got, JsonElement expected)
    {
        var want = expected.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        foreach (var key in want.Keys.Union(got.Keys).Order(StringComparer.Ordinal))
        {
            var g = got.GetValueOrDefault(key);
            var w = want.GetValueOrDefault(key);
            if (g != w)
            {
                yield return $"{label}: {what}.{key}: reader {g}, expected {w}";
            }
        }
    }

    /// <summary>expected-counts.json holds one count object (a single-stream folder, the stream being the folder's
    /// only *.mig) or one per file name (a capture with its return path).</summary>
    private static List<(string File, JsonElement Counts)> ExpectedPerFile(string folder)
    {
        var dir = Path.Combine(DataDir, folder);
        var root = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "expected-counts.json"))).RootElement;
        if (root.TryGetProperty("size", out _))
        {
            var streams = Directory.GetFiles(dir, "*.mig");
            if (streams.Length != 1)
            {
                throw new InvalidOperationException($"{dir}: expected-counts.json describes one stream but there are {streams.Length} *.mig files");
            }

            return [(Path.GetFileName(streams[0]), root)];
        }

        return root.EnumerateObject().Select(p => (p.Name, p.Value)).ToList();
    }

    private sealed class Tally
    {
        public SortedDictionary<string, int> Records { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, int> Commands { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, int> RamFlags { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (ulong UsedLength, int Pages)> Blocks { get; } = new(StringComparer.Ordinal);

        public int RamRecords { get; set; }

        /// <summary>mapped-ram layout per block: (bitmap_offset, bitmap_bytes, pages_offset, pages_present, page bytes read).</summary>
        public Dictionary<string, (ulong BitmapOffset, int BitmapBytes, ulong PagesOffset, long PagesPresent, long BytesRead)> MappedRam { get; } = new(StringComparer.Ordinal);

        public long LastEnd { get; set; }

        public override string ToString()
        {
            var sb = new StringBuilder();
            sb.Append(string.Join(", ", Records.Select(k => $"{k.Key}={k.Value}")));
            sb.Append("; commands ").Append(string.Join(", ", Commands.Select(k => $"{k.Key}={k.Value}")));
            sb.Append("; flags ").Append(string.Join(", ", RamFlags.Select(k => $"{k.Key}={k.Value}")));
            return sb.ToString();
        }
    }

    /// <summary>Counts what expected-counts.json counts, the way walk_stream.py counts it.</summary>
    private readonly struct TallyVisitor(Tally tally) : IMigrationVisitor
    {
        private void Count(in RecordInfo record)
        {
            tally.LastEnd = Math.Max(tally.LastEnd, record.Offset + record.Length);
            if (record.Kind.IsTopLevel() || record.Kind == RecordKind.ConfigurationSubsection)
            {
                var name = record.Kind.QemuName();
                tally.Records[name] = tally.Records.GetValueOrDefault(name) + 1;
            }
        }

        public void OnFileHeader(in RecordInfo record, uint version) => Count(record);

        public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) => Count(record);

        public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) => Count(record);

        public void OnSectionHeader(in RecordInfo record, SectionInfo section) => Count(record);

        public void OnRamBlock(in RecordInfo record, RamBlock block)
        {
            Count(record);
            tally.Blocks[block.Name] = (block.UsedLength, tally.Blocks.GetValueOrDefault(block.Name).Pages);
        }

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            Count(record);
            tally.RamRecords++;
            foreach (var flag in Enum.GetValues<RamSaveFlag>())
            {
                if (((ulong)ram.Flags & (ulong)flag) != 0)
                {
                    var name = flag.ToQemuName()!.Replace("RAM_SAVE_FLAG_", "", StringComparison.Ordinal);
                    tally.RamFlags[name] = tally.RamFlags.GetValueOrDefault(name) + 1;
                }
            }

            if (block is not null)
            {
                var b = tally.Blocks.GetValueOrDefault(block.Name);
                tally.Blocks[block.Name] = (b.UsedLength, b.Pages + 1);
            }
        }

        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) =>
            tally.MappedRam[block.Name] = (header.BitmapOffset, 0, header.PagesOffset, 0, 0);

        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
        {
            var m = tally.MappedRam[block.Name];
            tally.MappedRam[block.Name] = m with { BitmapBytes = bitmap.Length, PagesPresent = MappedRamBitmap.CountPresent(bitmap) };
        }

        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
        {
            tally.LastEnd = Math.Max(tally.LastEnd, record.Offset + record.Length);
            var m = tally.MappedRam[block.Name];
            tally.MappedRam[block.Name] = m with { BytesRead = m.BytesRead + pages.Length };
        }

        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) => Count(record);

        public void OnSectionFooter(in RecordInfo record, SectionInfo section) => Count(record);

        public void OnCommand(in RecordInfo record, in Command command)
        {
            Count(record);
            var name = command.Cmd.ToQemuName()?.Replace("MIG_CMD_", "", StringComparison.Ordinal) ?? $"0x{(ushort)command.Cmd:x}";
            tally.Commands[name] = tally.Commands.GetValueOrDefault(name) + 1;
        }

        public void OnEndOfSections(in RecordInfo record) => Count(record);

        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json) => Count(record);
    }

    private readonly struct MessageCounter(SortedDictionary<string, int> tally) : IReturnPathVisitor
    {
        public void OnMessage(in RecordInfo record, in RpMessage message)
        {
            var name = message.MsgType.ToQemuName()?.Replace("MIG_RP_MSG_", "", StringComparison.Ordinal) ?? $"0x{(ushort)message.MsgType:x}";
            tally[name] = tally.GetValueOrDefault(name) + 1;
        }

        public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob)
        {
        }
    }
}
