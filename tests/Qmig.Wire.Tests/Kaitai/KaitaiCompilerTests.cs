using System.Text;
using System.Text.Json;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Qmig.Wire.Tests.Kaitai;

/// <summary>
/// spec/migration/*.ksy against the official Kaitai Struct compiler (npm, pinned in
/// tests/kaitai/package-lock.json) and the house style: every spec compiles, every enum value names
/// its QEMU constant, everything is documented, and the compiler's JavaScript output parses the
/// real QEMU streams under tests/data from the first byte to the last.
/// </summary>
public sealed class KaitaiCompilerTests
{
    /// <summary>The channels the wire format is split into, one spec file each.</summary>
    private static readonly string[] RequiredSpecs =
    [
        "spec/migration/stream.ksy",
        "spec/migration/command.ksy",
        "spec/migration/ram.ksy",
        "spec/migration/return_path.ksy",
    ];

    public static TheoryData<string> SpecFiles()
    {
        var data = new TheoryData<string>();
        foreach (var spec in Node.SpecFiles())
        {
            data.Add(spec);
        }

        return data;
    }

    /// <summary>
    /// The real streams walk.js can tile on its own: it sizes device bodies with the stream's vmdesc
    /// and needs footers, and it does not read postcopy block lists or mapped-ram. The streams it
    /// cannot read are listed, so a new fixture must be placed in one list or the other.
    /// </summary>
    private static readonly string[] WalkableStreams =
    [
        "pc-32m-paused", "pc-64m-running", "q35-devices", "pc-32m-paused-qemu10",
        "pc-32m-xbzrle", "pc-32m-compress", "pc-32m-ignore-shared-uuid",
    ];

    private static readonly string[] StreamsBeyondWalkJs =
    [
        "pc-32m-no-vmdesc", "pc-32m-no-footer", "pc-32m-postcopy", "pc-32m-postcopy-qemu10",
        "pc-32m-return-path-qemu10", "pc-2m-mapped-ram-qemu10", "pc-2m-mapped-ram-multifd-qemu10",
        "pc-32m-postcopy-preempt",
    ];

    public static TheoryData<string> RealStreams()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Node.DataDir, "*.mig", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var folder = Path.GetFileName(Path.GetDirectoryName(file)!);
            if (WalkableStreams.Contains(folder))
            {
                data.Add(Path.GetRelativePath(Node.RepoRoot, file).Replace(Path.DirectorySeparatorChar, '/'));
            }
        }

        return data;
    }

    [Fact]
    public void EveryRealStreamIsClassifiedForTheKaitaiWalk()
    {
        var folders = Directory.GetFiles(Node.DataDir, "*.mig", SearchOption.AllDirectories)
            .Select(f => Path.GetFileName(Path.GetDirectoryName(f)!)).Distinct().ToList();
        var unclassified = folders.Where(f => !WalkableStreams.Contains(f) && !StreamsBeyondWalkJs.Contains(f)).ToList();
        Assert.True(unclassified.Count == 0, "classify these streams in KaitaiCompilerTests: " + string.Join(", ", unclassified));
        Assert.Equal(WalkableStreams.Length, folders.Count(f => WalkableStreams.Contains(f)));
    }

    [Fact]
    public void NodeAndTheKaitaiPackagesAreInstalled()
    {
        var problem = Node.ToolchainProblem();
        Assert.True(problem is null, problem);
    }

    [Fact]
    public void EveryChannelHasASpecFile()
    {
        var missing = RequiredSpecs.Where(s => !File.Exists(Path.Combine(Node.RepoRoot, s))).ToList();
        Assert.True(missing.Count == 0, "Missing spec files: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(SpecFiles))]
    public void SpecCompilesToJavaScriptWithTheOfficialCompiler(string spec)
    {
        var outDir = Directory.CreateTempSubdirectory("qmig-ksc-");
        try
        {
            var result = Node.Run("compile.js", [outDir.FullName, "javascript", Path.Combine(Node.RepoRoot, spec)]);
            Assert.True(result.ExitCode == 0, $"The official Kaitai compiler rejected {spec}:\n{result}");
            Assert.Contains($"ok {spec} ->", result.StdOut, StringComparison.Ordinal);
            Assert.NotEmpty(Directory.GetFiles(outDir.FullName, "*.js"));
        }
        finally
        {
            outDir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(SpecFiles))]
    public void EveryEnumValueHasOrigIdAndDoc(string spec)
    {
        var problems = new List<string>();
        var root = LoadSpec(spec);
        foreach (var (enumsPath, enums) in EnumBlocks(root, string.Empty))
        {
            foreach (var (enumName, enumNode) in Entries(enums))
            {
                if (enumNode is not YamlMappingNode values)
                {
                    problems.Add(At(enumNode, $"{enumsPath}/enums/{enumName}: not a map of values"));
                    continue;
                }

                foreach (var (key, value) in Entries(values))
                {
                    var where = $"{enumsPath}/enums/{enumName}/{key}";
                    if (value is not YamlMappingNode map)
                    {
                        problems.Add(At(value, $"{where}: write the value as a map with id, doc and -orig-id"));
                        continue;
                    }

                    foreach (var required in new[] { "id", "doc", "-orig-id" })
                    {
                        if (string.IsNullOrWhiteSpace(Scalar(map, required)))
                        {
                            problems.Add(At(map, $"{where}: no '{required}'"));
                        }
                    }
                }
            }
        }

        Assert.True(problems.Count == 0, $"{spec}:\n" + string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(SpecFiles))]
    public void EveryTypeSeqAttributeInstanceAndParamHasADoc(string spec)
    {
        var problems = new List<string>();
        var root = LoadSpec(spec);
        if (string.IsNullOrWhiteSpace(Scalar(root, "doc")))
        {
            problems.Add(At(root, "(file): no 'doc'"));
        }

        CheckDocs(root, string.Empty, problems);
        Assert.True(problems.Count == 0, $"{spec}:\n" + string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(SpecFiles))]
    public void SpecIsStandaloneAndBigEndian(string spec)
    {
        var root = LoadSpec(spec);
        var meta = Assert.IsType<YamlMappingNode>(root.Children[new YamlScalarNode("meta")]);
        Assert.Equal("be", Scalar(meta, "endian"));
        Assert.False(meta.Children.ContainsKey(new YamlScalarNode("imports")), $"{spec}: spec files must not import each other");
    }

    [Fact]
    public void TypeAndEnumNamesAreUniqueAcrossAllSpecFiles()
    {
        // The generator flattens every file into one C# namespace.
        var owners = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var spec in Node.SpecFiles())
        {
            var root = LoadSpec(spec);
            foreach (var name in TypeNames(root).Concat(EnumBlocks(root, string.Empty).SelectMany(b => Entries(b.Enums).Select(e => e.Key))))
            {
                if (!owners.TryGetValue(name, out var list))
                {
                    owners[name] = list = [];
                }

                list.Add(spec);
            }
        }

        var duplicates = owners.Where(o => o.Value.Count > 1).Select(o => $"{o.Key}: {string.Join(", ", o.Value)}").ToList();
        Assert.True(duplicates.Count == 0, "Names defined more than once:\n" + string.Join("\n", duplicates));
    }

    [Theory]
    [MemberData(nameof(RealStreams))]
    public void RealStreamParsesCompletelyWithTheOfficialCompilersOutput(string stream)
    {
        var result = Node.Run("walk.js", [Path.Combine(Node.RepoRoot, stream)]);
        Assert.True(result.ExitCode == 0, $"tests/kaitai/walk.js could not parse {stream} with the spec:\n{result}");
        using var summary = JsonDocument.Parse(result.StdOut);
        Assert.True(summary.RootElement.GetProperty("sections").GetInt32() > 0, result.StdOut);
        Assert.True(summary.RootElement.GetProperty("ram_records").GetInt32() > 0, result.StdOut);
    }

    [Fact]
    public void OracleReadsTheFirstRecordsOfARealStream()
    {
        // tests/data/pc-32m-paused: header, configuration "pc-i440fx-7.2", START "ram" (id 2, v4),
        // MEM_SIZE 0x3092000, first block "pc.ram" 32 MiB.
        var file = Path.Combine(Node.DataDir, "pc-32m-paused", "pc-32m-paused.mig");
        var requests = JsonSerializer.Serialize(new object[]
        {
            new { file, offset = 0, type = "migration_stream::file_header" },
            new { file, offset = 8, type = "migration_stream::configuration" },
            new { file, offset = 26, type = "migration_stream::section_header_start_full" },
            new { file, offset = 43, type = "ram_section::ram_record", args = new object[] { 4096 } },
            new { file, offset = 51, type = "ram_section::ram_block_entry", args = new object[] { false, false } },
            new { file, offset = 0, type = "migration_stream::section_footer" },
        });
        var result = Node.Run("oracle.js", [], requests);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var doc = JsonDocument.Parse(result.StdOut);
        var r = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(6, r.Length);

        AssertRecord(r[0], 8, ("magic", "\"5145564d\""), ("version", "3"));
        AssertRecord(r[1], 18, ("section_type", "\"07\""), ("len_name", "13"), ("name", Hex("pc-i440fx-7.2")));
        AssertRecord(
            r[2], 17, ("section_type", "1"), ("section_id", "2"), ("len_idstr", "3"), ("idstr", Hex("ram")),
            ("instance_id", "0"), ("version_id", "4"));
        AssertRecord(
            r[3], 8, ("addr_flags", "\"50929668\""), ("flags", "4"), ("offset", "50929664"), ("is_continue", "false"),
            ("has_block_id", "false"));
        AssertRecord(r[4], 15, ("len_idstr", "6"), ("idstr", Hex("pc.ram")), ("used_length", "\"33554432\""));
        Assert.False(r[4].GetProperty("fields").TryGetProperty("page_size", out _), "page_size must be absent without has_page_size");

        Assert.False(r[5].GetProperty("ok").GetBoolean());
        Assert.Contains("ValidationNotEqualError", r[5].GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private static void AssertRecord(JsonElement result, int consumed, params (string Field, string Json)[] expected)
    {
        Assert.True(result.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.Equal(consumed, result.GetProperty("consumed").GetInt32());
        var fields = result.GetProperty("fields");
        foreach (var (field, json) in expected)
        {
            Assert.True(fields.TryGetProperty(field, out var value), $"no field '{field}' in {fields}");
            Assert.Equal(json, value.GetRawText());
        }
    }

    private static string Hex(string ascii) => "\"" + Convert.ToHexStringLower(Encoding.ASCII.GetBytes(ascii)) + "\"";

    private static YamlMappingNode LoadSpec(string spec)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Node.RepoRoot, spec));
        stream.Load(reader);
        return Assert.IsType<YamlMappingNode>(stream.Documents[0].RootNode);
    }

    private static void CheckDocs(YamlMappingNode owner, string path, List<string> problems)
    {
        if (owner.Children.TryGetValue(new YamlScalarNode("seq"), out var seqNode) && seqNode is YamlSequenceNode seq)
        {
            var index = 0;
            foreach (var attr in seq.Children)
            {
                var id = attr is YamlMappingNode m ? Scalar(m, "id") ?? $"#{index}" : $"#{index}";
                if (attr is not YamlMappingNode map || string.IsNullOrWhiteSpace(Scalar(map, "doc")))
                {
                    problems.Add(At(attr, $"{path}/seq/{id}: no 'doc'"));
                }

                index++;
            }
        }

        foreach (var section in new[] { "instances", "params" })
        {
            if (!owner.Children.TryGetValue(new YamlScalarNode(section), out var node))
            {
                continue;
            }

            IEnumerable<(string Id, YamlNode Node)> items = node switch
            {
                YamlMappingNode map => Entries(map).Select(e => (e.Key, e.Value)),
                YamlSequenceNode list => list.Children.Select(c => (c is YamlMappingNode m ? Scalar(m, "id") ?? "?" : "?", c)),
                _ => [],
            };
            foreach (var (id, item) in items)
            {
                if (item is not YamlMappingNode map || string.IsNullOrWhiteSpace(Scalar(map, "doc")))
                {
                    problems.Add(At(item, $"{path}/{section}/{id}: no 'doc'"));
                }
            }
        }

        if (owner.Children.TryGetValue(new YamlScalarNode("types"), out var typesNode) && typesNode is YamlMappingNode types)
        {
            foreach (var (name, typeNode) in Entries(types))
            {
                if (typeNode is not YamlMappingNode type)
                {
                    problems.Add(At(typeNode, $"{path}/types/{name}: not a map"));
                    continue;
                }

                if (string.IsNullOrWhiteSpace(Scalar(type, "doc")))
                {
                    problems.Add(At(type, $"{path}/types/{name}: no 'doc'"));
                }

                CheckDocs(type, $"{path}/types/{name}", problems);
            }
        }
    }

    /// <summary>Every `enums:` block of the file and of its (nested) types.</summary>
    private static IEnumerable<(string Path, YamlMappingNode Enums)> EnumBlocks(YamlMappingNode owner, string path)
    {
        if (owner.Children.TryGetValue(new YamlScalarNode("enums"), out var enumsNode) && enumsNode is YamlMappingNode enums)
        {
            yield return (path, enums);
        }

        if (owner.Children.TryGetValue(new YamlScalarNode("types"), out var typesNode) && typesNode is YamlMappingNode types)
        {
            foreach (var (name, type) in Entries(types))
            {
                if (type is YamlMappingNode map)
                {
                    foreach (var block in EnumBlocks(map, $"{path}/types/{name}"))
                    {
                        yield return block;
                    }
                }
            }
        }
    }

    private static IEnumerable<string> TypeNames(YamlMappingNode owner)
    {
        if (owner.Children.TryGetValue(new YamlScalarNode("types"), out var typesNode) && typesNode is YamlMappingNode types)
        {
            foreach (var (name, type) in Entries(types))
            {
                yield return name;
                if (type is YamlMappingNode map)
                {
                    foreach (var nested in TypeNames(map))
                    {
                        yield return nested;
                    }
                }
            }
        }
    }

    private static IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode map) =>
        map.Children.Select(c => (c.Key is YamlScalarNode k ? k.Value ?? string.Empty : c.Key.ToString(), c.Value));

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode scalar ? scalar.Value : null;

    private static string At(YamlNode node, string message) => $"({node.Start.Line},{node.Start.Column}) {message}";
}
