using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Qmig.Generators.Common;

/// <summary>
/// A place in a spec file as plain integers (0-based line and column), so that models stay
/// equatable and free of Roslyn objects; turned into a <see cref="Location"/> only when reported.
/// </summary>
public readonly record struct SpecLocation(string Path, int Line, int Column, int EndLine, int EndColumn)
{
    public static SpecLocation Start(string path) => new(path, 0, 0, 0, 0);

    public Location ToLocation() => Location.Create(
        Path,
        default(TextSpan),
        new LinePositionSpan(new LinePosition(Line, Column), new LinePosition(EndLine, EndColumn)));
}

/// <summary>A diagnostic as data: which descriptor, where, and the message arguments.</summary>
public sealed record SpecDiagnostic(string Id, SpecLocation Location, EquatableArray<string> Arguments)
{
    public static SpecDiagnostic Create(string id, SpecLocation location, params string[] arguments) =>
        new(id, location, arguments.ToEquatableArray());
}
