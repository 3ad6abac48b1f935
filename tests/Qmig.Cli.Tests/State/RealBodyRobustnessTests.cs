using System.Text.Json;
using System.Text.Json.Nodes;
using Qmig.Wire.Streaming;
using Qmig.Wire.VmState;
using Xunit;

namespace Qmig.Cli.Tests.State;

/// <summary>
/// Every real device body of the q35 fixture, cut short, corrupted or paired with an inflated
/// description: the decoder reports an error inside the body and never throws.
/// </summary>
public class RealBodyRobustnessTests
{
    private static readonly Lazy<(StreamCatalog Catalog, VmDescriptionDocument Vmdesc)> Q35 = new(() =>
        (StreamCatalog.Read(Fixtures.Stream("q35-devices")), VmDescriptionDocument.ReadFromFile(Fixtures.Stream("q35-devices"))!));

    private static IEnumerable<(SectionInfo Section, byte[] Body, JsonElement Description)> Devices() =>
        Q35.Value.Catalog.Bodies.Where(b => b.Section.Description is not null).Select(b => (b.Section, b.Body, b.Section.Description!.Description));

    [Fact]
    public void Every_body_decodes_whole()
    {
        var count = 0;
        foreach (var (section, body, description) in Devices())
        {
            var result = VmStateDecoder.Decode(body, description, section.Idstr);
            Assert.True(result.Error is null, $"{section}: {result.Error}");
            count++;
        }

        Assert.True(count > 30);
    }

    [Fact]
    public void Every_cut_short_body_is_an_error_inside_it()
    {
        var random = new Random(7);
        foreach (var (section, body, description) in Devices().Where(d => d.Body.Length > 0))
        {
            for (var i = 0; i < 48; i++)
            {
                var length = i < 8 ? Math.Max(0, body.Length - 1 - i) : random.Next(body.Length);
                var result = VmStateDecoder.Decode(body.AsSpan(0, length), description, section.Idstr);
                Assert.NotNull(result.Error);
                Assert.InRange(result.Error!.Offset, 0, length);
                Assert.StartsWith(section.Idstr, result.Error.Path, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Corrupted_and_extended_bodies_never_throw()
    {
        var random = new Random(11);
        foreach (var (section, body, description) in Devices())
        {
            for (var i = 0; i < 32; i++)
            {
                var copy = body.Concat(new byte[random.Next(3)]).ToArray();
                for (var flips = random.Next(1, 4); flips > 0 && copy.Length > 0; flips--)
                {
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                }

                var result = VmStateDecoder.Decode(copy, description, section.Idstr);
                Assert.InRange(result.Consumed, 0, copy.Length);
                if (result.Error is not null)
                {
                    Assert.InRange(result.Error.Offset, 0, copy.Length);
                }
            }
        }
    }

    [Fact]
    public void Inflated_array_lens_in_real_descriptions_are_errors()
    {
        var inflated = 0;
        foreach (var (section, body, description) in Devices())
        {
            var node = JsonNode.Parse(description.GetRawText())!;
            if (!Inflate(node))
            {
                continue;
            }

            using var document = JsonDocument.Parse(node.ToJsonString());
            var result = VmStateDecoder.Decode(body, document.RootElement, section.Idstr);
            Assert.NotNull(result.Error);
            Assert.InRange(result.Error!.Offset, 0, body.Length);
            inflated++;
        }

        Assert.True(inflated > 5);
    }

    /// <summary>Sets every array_len to 2^40; true if there was one.</summary>
    private static bool Inflate(JsonNode? node)
    {
        var found = false;
        switch (node)
        {
            case JsonObject o:
                if (o.ContainsKey("array_len"))
                {
                    o["array_len"] = 1L << 40;
                    found = true;
                }

                foreach (var (_, child) in o.ToList())
                {
                    found |= Inflate(child);
                }

                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    found |= Inflate(child);
                }

                break;
        }

        return found;
    }
}
