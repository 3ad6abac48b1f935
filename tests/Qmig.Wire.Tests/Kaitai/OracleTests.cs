using System.Text.Json.Nodes;
using Qmig.Wire.Tests.Allocation;
using Qmig.Wire.Tests.Properties.Cases;
using Xunit;
using Xunit.Abstractions;

namespace Qmig.Wire.Tests.Kaitai;

/// <summary>
/// An independent oracle: the official Kaitai compiler's JavaScript output (tests/kaitai/oracle.js)
/// and our generated readers agree on every field of every self-delimiting record of the real
/// QEMU streams in tests/data, as tests/kaitai/walk.js finds them (device bodies are skipped: they
/// need the vmdesc, which the stream reader handles). A flipped byte shows the comparison can
/// fail, and a hand-made record of every kind covers the types the streams do not contain.
/// </summary>
public sealed class OracleTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(RealStreams.NameData), MemberType = typeof(RealStreams))]
    public void EveryRecordOfARealStreamReadsAsTheOracleReadsIt(string stream)
    {
        Node.RequireToolchain();
        var path = Path.Combine(Node.DataDir, stream);
        var data = File.ReadAllBytes(path);
        var requests = OracleComparison.Walk(path);
        var results = OracleComparison.Oracle(requests);
        var comparison = OracleComparison.Compare(requests, results, _ => data);

        output.WriteLine($"{stream}: {comparison.Total} records compared: " + string.Join(", ", comparison.Compared.Select(e => $"{e.Key} {e.Value}")));
        Assert.True(comparison.Mismatches.Count == 0, OracleComparison.Describe(comparison));
        Assert.Equal(0, comparison.BothRejected); // walk.js only lists records the oracle read
        // Not vacuous: the walk covered the stream's framing and its RAM section.
        foreach (var type in new[] { "migration_stream::file_header", "migration_stream::section_header_start_full", "migration_stream::section_footer", "ram_section::ram_record", "ram_section::ram_block_entry", "migration_stream::vm_description" })
        {
            Assert.True(comparison.Compared.GetValueOrDefault(type) > 0, $"No {type} was compared in {stream}");
        }
    }

    /// <summary>
    /// The comparison can fail. In a copy of a stream, the last byte of the first record of each
    /// type has its low bit flipped (the last byte, so that a 64-bit length stays small and the
    /// oracle stays exact); the oracle's reading of the copy must then differ from our reading
    /// of the original (a different value, or a rejection), while our reading of the copy agrees
    /// with the oracle's again (same fields, or both reject).
    /// </summary>
    [Fact]
    public void AFlippedByteIsSeenByTheComparison()
    {
        Node.RequireToolchain();
        var path = Path.Combine(Node.DataDir, "pc-32m-paused-qemu10/pc-32m-paused.mig");
        var original = File.ReadAllBytes(path);
        var requests = OracleComparison.Walk(path);
        var results = OracleComparison.Oracle(requests);

        var flipped = (byte[])original.Clone();
        var chosen = new JsonArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < requests.Count; i++)
        {
            var type = (string)requests[i]!["type"]!;
            if (!seen.Add(type))
            {
                continue;
            }

            var offset = OracleComparison.Integer(requests[i]!["offset"]);
            var consumed = OracleComparison.Integer(results[i]!["consumed"]);
            flipped[offset + consumed - 1] ^= 0x01;
            var request = requests[i]!.DeepClone().AsObject();
            chosen.Add(request);
        }

        var copy = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(copy, flipped);
            foreach (var request in chosen)
            {
                request!["file"] = copy;
            }

            var flippedResults = OracleComparison.Oracle(chosen);

            // The oracle on the flipped copy against ours on the original: every record must differ.
            var againstOriginal = OracleComparison.Compare(chosen, flippedResults, _ => original);
            output.WriteLine($"{chosen.Count} records with a flipped byte; against the original: " + string.Join("\n", againstOriginal.Mismatches));
            Assert.Equal(chosen.Count, againstOriginal.Mismatches.Count);

            // The oracle and ours on the same flipped copy: they agree again.
            var againstCopy = OracleComparison.Compare(chosen, flippedResults, _ => flipped);
            output.WriteLine($"On the flipped copy: {againstCopy.BothRejected} rejected by both, {againstCopy.Total - againstCopy.BothRejected - againstCopy.Mismatches.Count} read alike");
            Assert.True(againstCopy.Mismatches.Count == 0, OracleComparison.Describe(againstCopy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>
    /// The streams hold only some record types (no return-path message, one kind of command). One
    /// hand-made record of every kind (the allocation test's values: every type, each RAM flag
    /// kind, each command and return-path payload case) written by our writers reads the same in
    /// the oracle and in our readers.
    /// </summary>
    [Fact]
    public void AHandMadeRecordOfEveryKindReadsAsTheOracleReadsIt()
    {
        Node.RequireToolchain();
        var file = Path.GetTempFileName();
        try
        {
            var bytes = new List<byte>();
            var requests = new JsonArray();
            foreach (var (kind, c) in AllocationCases.ByName)
            {
                var encoded = c.Encode();
                var request = new JsonObject
                {
                    ["file"] = file,
                    ["offset"] = bytes.Count,
                    ["type"] = SpecTypes.ForClr(c.RecordType).OracleName,
                    ["length"] = encoded.Length, // a sized record ends with its input; the others stop by themselves
                };
                if (Arguments(c) is { } args)
                {
                    request["args"] = args;
                }

                requests.Add(request);
                bytes.AddRange(encoded);
            }

            var data = bytes.ToArray();
            File.WriteAllBytes(file, data);
            var comparison = OracleComparison.Compare(requests, OracleComparison.Oracle(requests), _ => data);
            output.WriteLine($"{comparison.Total} hand-made records compared: " + string.Join(", ", comparison.Compared.Select(e => $"{e.Key} {e.Value}")));
            Assert.True(comparison.Mismatches.Count == 0, OracleComparison.Describe(comparison));
            Assert.Equal(0, comparison.BothRejected);
            Assert.Equal(SpecTypes.All.Count, comparison.Compared.Count);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The type's params, in .ksy order, for the oracle request.</summary>
    private static JsonArray? Arguments(Properties.WireCase c) => c switch
    {
        RamRecordCase r => [r.TargetPageSize],
        RamBlockEntryCase b => [b.HasPageSize, b.HasMrAddr],
        PostcopyAdviseCase a => [a.LenPayload],
        _ => null,
    };
}
