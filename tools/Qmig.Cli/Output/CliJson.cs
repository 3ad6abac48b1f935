using System.Text.Json.Serialization;
using Qmig.Cli.Diff;
using Qmig.Cli.Report;

namespace Qmig.Cli.Output;

/// <summary>
/// The JSON the CLI prints, generated at build time (no reflection, which the native build lacks):
/// snake_case names in declaration order, nulls left out, indented as <c>Utf8JsonWriter</c> indents.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StatsDocument))]
[JsonSerializable(typeof(RoundEntry))]
[JsonSerializable(typeof(DiffDocument))]
[JsonSerializable(typeof(ServeStatsDocument))]
[JsonSerializable(typeof(ReceiveStatsDocument))]
[JsonSerializable(typeof(ProxyStatsDocument))]
[JsonSerializable(typeof(ReturnPathStatsDocument))]
[JsonSerializable(typeof(ReportData))]
internal sealed partial class CliJson : JsonSerializerContext;
