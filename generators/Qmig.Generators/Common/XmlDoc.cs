using System;

namespace Qmig.Generators.Common;

/// <summary>
/// Spec text as XML documentation comments. Spec docs are prose that may hold <c>&amp;</c>,
/// <c>&lt;</c> and <c>&gt;</c> (C expressions, "a &lt; b"); escaped here, they reach the compiler's
/// XML file as the text the spec wrote instead of as broken markup.
/// </summary>
public static class XmlDoc
{
    /// <summary>Escapes the three characters that XML doc text cannot hold as themselves.</summary>
    public static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>Writes <paramref name="text"/> as a <c>summary</c>, one comment line per spec line.</summary>
    public static void Summary(SourceWriter w, string text)
    {
        w.Line("/// <summary>");
        foreach (var line in text.Replace("\r\n", "\n").Trim().Split('\n'))
        {
            w.Line(("/// " + Escape(line.Trim())).TrimEnd());
        }

        w.Line("/// </summary>");
    }

    /// <summary>The spec's own words when it has a doc, else a sentence that says where the member comes from.</summary>
    public static string Or(string? specDoc, string fallback) =>
        string.IsNullOrWhiteSpace(specDoc) ? fallback : specDoc!;
}
