using System.Text.Json.Nodes;

namespace Qmig.Wire.Tests.Kaitai;

/// <summary>
/// Field-by-field differences between two JSON trees (the oracle's fields and ours), each named by
/// its path. Leaves compare by their JSON text, so 4096 and "4096" differ: the oracle's type
/// convention (u8 as decimal strings, other integers as numbers) is part of what is compared.
/// </summary>
public static class JsonDiff
{
    public static List<string> Of(JsonNode? expected, JsonNode? actual)
    {
        var differences = new List<string>();
        Compare(expected, actual, "", differences);
        return differences;
    }

    private static void Compare(JsonNode? expected, JsonNode? actual, string path, List<string> differences)
    {
        switch (expected, actual)
        {
            case (null, null):
                return;
            case (JsonObject e, JsonObject a):
                foreach (var (key, value) in e)
                {
                    if (!a.ContainsKey(key))
                    {
                        differences.Add($"{path}{key}: oracle has {Text(value)}, ours is absent");
                    }
                    else
                    {
                        Compare(value, a[key], $"{path}{key}.", differences);
                    }
                }

                foreach (var (key, value) in a)
                {
                    if (!e.ContainsKey(key))
                    {
                        differences.Add($"{path}{key}: ours has {Text(value)}, the oracle's is absent");
                    }
                }

                return;
            case (JsonArray e, JsonArray a):
                if (e.Count != a.Count)
                {
                    differences.Add($"{path.TrimEnd('.')}: oracle has {e.Count} elements, ours {a.Count}");
                    return;
                }

                for (var i = 0; i < e.Count; i++)
                {
                    Compare(e[i], a[i], $"{path}{i}.", differences);
                }

                return;
            default:
                var oracleText = expected?.ToJsonString() ?? "null";
                var ourText = actual?.ToJsonString() ?? "null";
                if (oracleText != ourText)
                {
                    // Long leaves (pages as hex) are shown from a little before their first difference.
                    var at = Math.Max(0, oracleText.AsSpan().CommonPrefixLength(ourText) - 8);
                    var where = at > 0 ? $" (from character {at})" : "";
                    differences.Add($"{path.TrimEnd('.')}{where}: oracle {Shorten(oracleText[at..])}, ours {Shorten(ourText[at..])}");
                }

                return;
        }
    }

    /// <summary>A leaf for a message, shortened (a page is 8 KiB of hex).</summary>
    private static string Text(JsonNode? node) => Shorten(node?.ToJsonString() ?? "null");

    private static string Shorten(string text) => text.Length > 80 ? text[..77] + "..." : text;
}
