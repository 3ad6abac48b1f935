using Microsoft.CodeAnalysis;
using Qmig.Generators.WireFormat;
using Xunit;

namespace Qmig.Generators.Tests.WireFormat;

/// <summary>
/// The spec's <c>doc:</c> text becomes the generated members' XML docs, so a package's doc file
/// explains a record in the spec's words; members the spec leaves undocumented still get a sentence.
/// </summary>
public class WireDocCommentTests
{
    private const string Spec = """
        meta:
          id: docs
          endian: be
        types:
          frame:
            doc: A frame whose length is < 4 KiB & whose tag > 0.
            seq:
              - id: tag
                type: u1
                enum: frame_kind
                doc: Which kind of frame; 0 is <reserved>.
              - id: len
                type: u2
              - id: body
                size: len
            instances:
              is_big:
                value: len > 255
        enums:
          frame_kind:
            1:
              id: data
              doc: Payload bytes & nothing else.
            2: control
        """;

    private static (string Source, GeneratorHarness.Result Result) Generate()
    {
        var result = GeneratorHarness.Run(new WireFormatGenerator(), GeneratorHarness.DocumentedParseOptions, ("/specs/docs.ksy", Spec));
        Assert.Empty(result.GeneratorDiagnostics);
        var source = string.Concat(result.Driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()));
        return (source, result);
    }

    [Fact]
    public void SpecDocsReachTheGeneratedSourceEscapedForXml()
    {
        var (source, _) = Generate();
        Assert.Contains("/// A frame whose length is &lt; 4 KiB &amp; whose tag &gt; 0.", source);
        Assert.Contains("/// Which kind of frame; 0 is &lt;reserved&gt;.", source);
        Assert.Contains("/// Payload bytes &amp; nothing else.", source);
        Assert.DoesNotContain("<reserved>", source);
    }

    [Fact]
    public void MembersWithoutASpecDocNameTheirSpecFileAndType()
    {
        var (source, _) = Generate();
        Assert.Contains("/// The 'len' field of 'frame' in docs.ksy.", source);
        Assert.Contains("/// The value 'is_big' that docs.ksy computes for 'frame'.", source);
        Assert.Contains("/// 'control' (0x2) of 'frame_kind' in docs.ksy.", source);
    }

    [Fact]
    public void EveryGeneratedPublicMemberHasWellFormedDocs()
    {
        var (_, result) = Generate();
        // CS1591: a public member without docs; CS1570 and friends: doc XML that does not parse.
        var docProblems = result.Output.GetDiagnostics()
            .Where(d => d.Id is "CS1591" or "CS1570" or "CS1572" or "CS1573" or "CS1574" or "CS1584" or "CS1658")
            .Select(d => d.ToString())
            .ToList();
        Assert.Empty(docProblems);
        Assert.Empty(result.CompileErrors);
    }
}
