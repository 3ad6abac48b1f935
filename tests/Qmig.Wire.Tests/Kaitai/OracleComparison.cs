using System.Globalization;
using System.Text.Json.Nodes;
using Xunit;

namespace Qmig.Wire.Tests.Kaitai;

/// <summary>The outcome of comparing our readers with the oracle on a list of records.</summary>
/// <param name="Compared">Records compared, by .ksy type.</param>
/// <param name="Mismatches">One line per record on which the two disagree.</param>
/// <param name="BothRejected">Records that neither side accepted (an agreement).</param>
public sealed record ComparisonResult(IReadOnlyDictionary<string, int> Compared, IReadOnlyList<string> Mismatches, int BothRejected)
{
    public int Total => Compared.Values.Sum();
}

/// <summary>
/// Runs tests/kaitai's walk.js and oracle.js, and compares their parse of every requested record
/// with our generated readers' (<see cref="OurRecordView"/>) at the same offset: the status (both
/// accept or both reject), the consumed length and every field.
/// </summary>
public static class OracleComparison
{
    /// <summary>walk.js's request list for a whole stream: every record's offset, type and arguments.</summary>
    public static JsonArray Walk(string streamPath)
    {
        var requestsFile = Path.GetTempFileName();
        try
        {
            var walk = Node.Run("walk.js", [streamPath, "--requests", requestsFile]);
            Assert.True(walk.ExitCode == 0, $"walk.js could not walk {streamPath}:\n{walk}");
            return JsonNode.Parse(File.ReadAllText(requestsFile))!.AsArray();
        }
        finally
        {
            File.Delete(requestsFile);
        }
    }

    /// <summary>oracle.js's results for the requests, one per request.</summary>
    public static JsonArray Oracle(JsonArray requests)
    {
        var run = Node.Run("oracle.js", [], requests.ToJsonString());
        Assert.True(run.ExitCode == 0, $"oracle.js failed:\n{run.ToString()[..Math.Min(run.ToString().Length, 4000)]}");
        var results = JsonNode.Parse(run.StdOut)!.AsArray();
        Assert.Equal(requests.Count, results.Count);
        return results;
    }

    /// <summary>Compares each oracle result with our reader on the request's bytes, taken from <paramref name="files"/> (path → contents).</summary>
    public static ComparisonResult Compare(JsonArray requests, JsonArray results, Func<string, byte[]> files)
    {
        var compared = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var mismatches = new List<string>();
        var bothRejected = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i]!.AsObject();
            var type = (string)request["type"]!;
            var offset = checked((int)Integer(request["offset"]));
            var data = files((string)request["file"]!);
            var length = request["length"] is { } l ? checked((int)Integer(l)) : data.Length - offset;
            var args = request["args"] is JsonArray a ? a.ToList() : [];
            var ours = OurRecordView.Parse(type, args, data.AsSpan(offset, length));
            var theirs = results[i]!.AsObject();
            compared[type] = compared.GetValueOrDefault(type) + 1;

            var where = $"{type} at offset {offset.ToString(CultureInfo.InvariantCulture)}";
            var oracleOk = (bool)theirs["ok"]!;
            if (!oracleOk && !ours.Ok)
            {
                bothRejected++;
                continue;
            }

            if (oracleOk != ours.Ok)
            {
                mismatches.Add(oracleOk
                    ? $"{where}: the oracle reads it ({theirs["consumed"]} bytes), ours rejects it: {ours.Error}"
                    : $"{where}: ours reads it ({ours.Consumed} bytes), the oracle rejects it: {theirs["error"]}");
                continue;
            }

            var differences = new List<string>();
            if (Integer(theirs["consumed"]) != ours.Consumed)
            {
                differences.Add($"consumed: oracle {theirs["consumed"]}, ours {ours.Consumed}");
            }

            // Every field is compared even when the oracle lists "inexact" values (64-bit attributes
            // above 2^53, such as recv_bitmap_blob's end marker): it still reports those attributes
            // exactly, and reports the instances it could not compute as null, which then differ from
            // ours. So rounding inside the oracle can only cause a reported difference, never hide one.
            differences.AddRange(JsonDiff.Of(theirs["fields"], ours.Fields));
            if (differences.Count > 0)
            {
                var note = theirs["inexact"] is JsonArray inexact ? $" (the oracle's JavaScript numbers were inexact for {inexact.ToJsonString()})" : "";
                mismatches.Add($"{where}: {string.Join("; ", differences)}{note}");
            }
        }

        return new ComparisonResult(compared, mismatches, bothRejected);
    }

    /// <summary>
    /// An integer of a request or result, however it was made: parsed from node's output, or built
    /// here from an int or uint (which JsonNode will not convert to long), or a decimal string.
    /// </summary>
    public static long Integer(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var text)
            ? long.Parse(text, CultureInfo.InvariantCulture)
            : long.Parse(node?.ToJsonString() ?? throw new ArgumentNullException(nameof(node)), CultureInfo.InvariantCulture);

    /// <summary>The first mismatches, for an assertion message.</summary>
    public static string Describe(ComparisonResult result, int shown = 20) =>
        $"{result.Mismatches.Count} of {result.Total} records differ:\n" + string.Join("\n", result.Mismatches.Take(shown));
}
