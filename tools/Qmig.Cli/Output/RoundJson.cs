using System.Text.Json;
using Qmig.Wire.Analysis;

namespace Qmig.Cli.Output;

/// <summary>One <see cref="RamRound"/> as JSON: the shape of <c>stats --format json</c>'s rounds, which the report embeds too.</summary>
internal static class RoundJson
{
    public static void Write(Utf8JsonWriter writer, RamRound round)
    {
        writer.WriteStartObject();
        writer.WriteString("round", round.Label);
        writer.WriteString("section", round.SectionName);
        writer.WriteString("phase", round.Postcopy ? "postcopy" : "precopy");
        writer.WriteNumber("offset", round.StartOffset);
        writer.WriteNumber("end", round.EndOffset);
        writer.WriteBoolean("eos", round.EndsAtEos);
        writer.WriteNumber("pages", round.Pages);
        writer.WriteNumber("zero_pages", round.ZeroPages);
        writer.WriteNumber("normal_pages", round.NormalPages);
        writer.WriteNumber("xbzrle_pages", round.XbzrlePages);
        writer.WriteNumber("xbzrle_bytes", round.XbzrleBytes);
        writer.WriteNumber("compressed_pages", round.CompressedPages);
        writer.WriteNumber("mapped_pages", round.MappedPages);
        writer.WriteEndObject();
    }
}
