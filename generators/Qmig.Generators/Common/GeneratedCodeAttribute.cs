namespace Qmig.Generators.Common;

/// <summary>
/// The <c>[GeneratedCode]</c> line put on every generated type, so analyzers, coverage and readers
/// know it is the generator's and which version of it wrote the code.
/// </summary>
internal static class GeneratedCodeAttribute
{
    public static string Line(string generator) =>
        $"[global::System.CodeDom.Compiler.GeneratedCode(\"{generator}\", \"{typeof(GeneratedCodeAttribute).Assembly.GetName().Version}\")]";
}
