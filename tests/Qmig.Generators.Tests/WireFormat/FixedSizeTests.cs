using Qmig.Generators.WireFormat;
using Xunit;

namespace Qmig.Generators.Tests.WireFormat;

/// <summary>
/// A record whose fields have one size whatever their values gets <c>const int Size</c>, nested
/// fixed records counted in; one with a length-dependent, conditional or repeated field gets none.
/// </summary>
public class FixedSizeTests
{
    private const string Spec = """
        meta:
          id: sizes
          endian: be
        types:
          point:
            seq:
              - id: x
                type: u4
              - id: y
                type: s2
          tagged_point:
            seq:
              - id: magic
                contents: [0x51, 0x4d]
              - id: at
                type: point
              - id: flags
                type: u1
          named:
            seq:
              - id: len
                type: u1
              - id: name
                size: len
          maybe:
            seq:
              - id: has
                type: u1
              - id: value
                type: u8
                if: has != 0
        """;

    private static string Generated()
    {
        var result = GeneratorHarness.Run(new WireFormatGenerator(), ("/specs/sizes.ksy", Spec));
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompileErrors);
        return string.Concat(result.Driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()));
    }

    private static string TypeSource(string source, string typeName)
    {
        var start = source.IndexOf($"partial struct {typeName} ", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no {typeName} generated");
        var end = source.IndexOf("partial struct ", start + 10, StringComparison.Ordinal);
        return end < 0 ? source[start..] : source[start..end];
    }

    [Theory]
    [InlineData("Point", 6)]
    [InlineData("TaggedPoint", 9)]
    public void AFixedRecordHasItsSize(string typeName, int size) =>
        Assert.Contains($"public const int Size = {size};", TypeSource(Generated(), typeName), StringComparison.Ordinal);

    [Theory]
    [InlineData("Named")]
    [InlineData("Maybe")]
    public void AVariableRecordHasNone(string typeName) =>
        Assert.DoesNotContain("const int Size", TypeSource(Generated(), typeName), StringComparison.Ordinal);
}
