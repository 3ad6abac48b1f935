using System;
using System.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Qmig.Generators.Common;

/// <summary>
/// Loads a spec file into YamlDotNet's node tree, which keeps a line and column for every node.
/// YamlDotNet throws more than YamlException on malformed input (InvalidOperationException from
/// its scanner, with no position), so every failure becomes a located diagnostic instead.
/// </summary>
public static class YamlSpecLoader
{
    public static YamlMappingNode? Load(string path, string text, out SpecDiagnostic? error)
    {
        error = null;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                error = SpecDiagnostic.Create("QMIG0003", SpecLocation.Start(path), "The spec file must be a YAML mapping");
                return null;
            }

            return root;
        }
        catch (YamlException ex)
        {
            error = SpecDiagnostic.Create("QMIG0001", At(path, ex.Start, ex.End), ex.Message);
            return null;
        }
        catch (Exception ex)
        {
            error = SpecDiagnostic.Create("QMIG0001", SpecLocation.Start(path), ex.Message);
            return null;
        }
    }

    /// <summary>YamlDotNet marks are 1-based; Roslyn line positions are 0-based.</summary>
    public static SpecLocation At(string path, Mark start, Mark end) => new(
        path,
        Math.Max(0, (int)start.Line - 1),
        Math.Max(0, (int)start.Column - 1),
        Math.Max(0, (int)end.Line - 1),
        Math.Max(0, (int)end.Column - 1));

    public static SpecLocation At(string path, YamlNode node) => At(path, node.Start, node.End);
}
