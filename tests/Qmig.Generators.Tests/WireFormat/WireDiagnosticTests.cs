using Microsoft.CodeAnalysis;
using Qmig.Generators.WireFormat;
using Xunit;

namespace Qmig.Generators.Tests.WireFormat;

/// <summary>
/// Each class of spec mistake is a compile error at the file, line and column of the offending
/// node (1-based here, as `dotnet build` prints them).
/// </summary>
public class WireDiagnosticTests
{
    private const string Path = "/specs/bad.ksy";

    private static Diagnostic Single(string spec, string id)
    {
        var result = GeneratorHarness.Run(new WireFormatGenerator(), (Path, spec));
        var matching = result.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matching.Count == 1,
            $"expected one {id}, got: {string.Join("; ", result.GeneratorDiagnostics.Select(d => d.ToString()))}");
        Assert.Equal(DiagnosticSeverity.Error, matching[0].Severity);
        return matching[0];
    }

    private static void AssertAt(Diagnostic diagnostic, int line, int column)
    {
        var span = diagnostic.Location.GetLineSpan();
        Assert.Equal(Path, span.Path);
        Assert.Equal((line, column), (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1));
    }

    [Fact]
    public void UnknownTypeIsReportedAtTheTypeValue()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: a
                    type: no_such_type
            """, "QMIG1001");
        AssertAt(d, 7, 15);
        Assert.Contains("no_such_type", d.GetMessage());
    }

    [Fact]
    public void MalformedExpressionIsReportedAtTheExpression()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: len
                    type: u1
                  - id: data
                    size: len +* 2
            """, "QMIG1002");
        AssertAt(d, 9, 15);
    }

    [Fact]
    public void UnsupportedExpressionIsReportedAtTheExpression()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: data
                    size: _io.size - 4
            """, "QMIG1002");
        AssertAt(d, 7, 15);
        Assert.Contains("_io", d.GetMessage());
    }

    [Fact]
    public void SizeNamingAnUndefinedFieldIsReportedAtTheSize()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: data
                    size: len_data
                  - id: len_data
                    type: u2
            """, "QMIG1003");
        AssertAt(d, 7, 15);
        Assert.Contains("len_data", d.GetMessage());
    }

    [Fact]
    public void UnsupportedKaitaiFeatureIsReportedAtItsKey()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: body
                    size: 4
                    process: zlib
            """, "QMIG0004");
        AssertAt(d, 8, 9);
        Assert.Contains("process", d.GetMessage());
    }

    [Fact]
    public void SendingApartAnythingButASizedByteArrayIsReportedAtTheKey()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: count
                    type: u4
                    -qmig-sent-apart: true
            """, "QMIG0004");
        AssertAt(d, 8, 27);
        Assert.Contains("-qmig-sent-apart on 'count'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void UnsupportedTypeIsReportedAtTheType()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: name
                    type: strz
            """, "QMIG0004");
        AssertAt(d, 7, 15);
    }

    [Fact]
    public void UnknownEnumIsReportedAtTheEnumValue()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: kind
                    type: u1
                    enum: no_such_enum
            """, "QMIG1004");
        AssertAt(d, 8, 15);
    }

    [Fact]
    public void ConditionThatIsNotBooleanIsReportedAtTheCondition()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: flags
                    type: u1
                  - id: extra
                    type: u4
                    if: flags & 4
            """, "QMIG1002");
        AssertAt(d, 10, 13);
        Assert.Contains("boolean", d.GetMessage());
    }

    [Fact]
    public void SwitchWithoutSizeIsRejected()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec:
                seq:
                  - id: kind
                    type: u1
                  - id: body
                    type:
                      switch-on: kind
                      cases:
                        1: other
              other:
                seq:
                  - id: x
                    type: u1
            """, "QMIG1006");
        AssertAt(d, 10, 11);
    }

    [Fact]
    public void InvalidYamlIsALocatedError()
    {
        var d = Single("""
            meta:
              id: bad
            types:
              rec: {seq: [ {id: a, type: u1}
            """, "QMIG0001");
        Assert.True(d.Location.GetLineSpan().StartLinePosition.Line >= 3, d.ToString());
    }

    [Fact]
    public void AnExceptionInsideTheGeneratorBecomesADiagnosticAndOtherFilesStillGenerate()
    {
        // A non-scalar mapping key makes the parser's cast throw; that must not take the other file down.
        var good = ("/specs/good.ksy", """
            meta:
              id: good
            types:
              fine:
                seq:
                  - id: a
                    type: u1
            """);
        var result = GeneratorHarness.Run(new WireFormatGenerator(), (Path, """
            meta:
              id: bad
            types:
              ? [a, b]
              : seq: []
            """), good);
        var failure = Assert.Single(result.GeneratorDiagnostics, d => d.Id == "QMIG0002");
        Assert.Equal(Path, failure.Location.GetLineSpan().Path);
        Assert.Contains(result.Output.SyntaxTrees, t => t.FilePath.EndsWith("good.Fine.g.cs", StringComparison.Ordinal));
        Assert.Empty(result.CompileErrors);
    }

    [Fact]
    public void SameTypeNameInTwoFilesIsReported()
    {
        const string spec = """
            meta:
              id: {0}
            types:
              twin:
                seq:
                  - id: a
                    type: u1
            """;
        var result = GeneratorHarness.Run(new WireFormatGenerator(),
            ("/specs/a.ksy", spec.Replace("{0}", "a")), ("/specs/b.ksy", spec.Replace("{0}", "b")));
        var duplicate = Assert.Single(result.GeneratorDiagnostics, d => d.Id == "QMIG1005");
        Assert.Equal("/specs/b.ksy", duplicate.Location.GetLineSpan().Path);
    }
}
