namespace Qmig.Cli.Output;

/// <summary>A value shown in a hexadecimal form in text and as a number in JSON.</summary>
internal readonly record struct Hex(ulong Value)
{
    public override string ToString() => $"0x{Value:x}";
}

/// <summary>One record as the inspector shows it: where it is, what it is, and its named fields in spec order.</summary>
internal sealed class RecordFields(string type, long offset, int length, int depth, uint sectionId, byte[]? raw)
{
    public string Type { get; } = type;

    public long Offset { get; } = offset;

    public int Length { get; } = length;

    public int Depth { get; } = depth;

    public uint SectionId { get; } = sectionId;

    /// <summary>The record's bytes, kept only when --hex asks for them.</summary>
    public byte[]? Raw { get; } = raw;

    /// <summary>Nesting for the text tree: records inside a section body are indented under it.</summary>
    public bool InsideSection { get; init; }

    public List<KeyValuePair<string, object>> Fields { get; } = [];

    /// <summary>Free text that the text tree shows after the type, before any fields (a folded run of pages).</summary>
    public string? Summary { get; init; }

    public RecordFields Add(string key, object value)
    {
        Fields.Add(new(key, value));
        return this;
    }
}

/// <summary>Where dumped records go: a text tree, one JSON document, or JSON lines.</summary>
internal interface IRecordRenderer : IDisposable
{
    void Write(RecordFields record);

    void Finish(string? error);
}
