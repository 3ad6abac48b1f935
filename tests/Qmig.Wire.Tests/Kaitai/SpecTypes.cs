using YamlDotNet.RepresentationModel;

namespace Qmig.Wire.Tests.Kaitai;

/// <summary>One type declared under <c>types:</c> of a spec file.</summary>
/// <param name="MetaId">The file's <c>meta/id</c>, the first part of an oracle type reference.</param>
/// <param name="TypeId">The type's .ksy id.</param>
/// <param name="ClrName">The name the generator gives its C# type (PascalCase).</param>
public sealed record SpecType(string MetaId, string TypeId, string ClrName)
{
    /// <summary>How oracle.js and walk.js name the type: "meta_id::type_id".</summary>
    public string OracleName => $"{MetaId}::{TypeId}";
}

/// <summary>The types the spec files declare, read from spec/migration/*.ksy.</summary>
public static class SpecTypes
{
    private static readonly Lazy<IReadOnlyList<SpecType>> Declared = new(Load);

    public static IReadOnlyList<SpecType> All => Declared.Value;

    public static SpecType ForClr(Type type) =>
        All.SingleOrDefault(t => t.ClrName == type.Name) ?? throw new ArgumentException($"No spec type is generated as {type.Name}");

    private static List<SpecType> Load()
    {
        var types = new List<SpecType>();
        foreach (var file in Directory.GetFiles(Node.SpecDir, "*.ksy").Order(StringComparer.Ordinal))
        {
            var yaml = new YamlStream();
            using (var reader = File.OpenText(file))
            {
                yaml.Load(reader);
            }

            var root = (YamlMappingNode)yaml.Documents[0].RootNode;
            var metaId = ((YamlScalarNode)((YamlMappingNode)root["meta"])["id"]).Value!;
            if (!root.Children.TryGetValue(new YamlScalarNode("types"), out var declared))
            {
                continue;
            }

            foreach (var key in ((YamlMappingNode)declared).Children.Keys)
            {
                var id = ((YamlScalarNode)key).Value!;
                types.Add(new SpecType(metaId, id, string.Concat(id.Split('_').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]))));
            }
        }

        return types;
    }
}
