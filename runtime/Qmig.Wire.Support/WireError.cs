using System.Buffers;
using System.Runtime.CompilerServices;

namespace Qmig.Wire;

/// <summary>
/// Why a record is invalid: the record and field (the innermost one, for nested records), the
/// byte offset from the start of the outermost record read, and the rule that failed. Strings are
/// literals from the spec, so building one allocates nothing.
/// </summary>
public readonly struct WireError
{
    public WireError(string record, string field, long offset, string rule)
    {
        Record = record;
        Field = field;
        Offset = offset;
        Rule = rule;
    }

    public string Record { get; }

    public string Field { get; }

    public long Offset { get; }

    public string Rule { get; }

    public bool IsEmpty => Record is null;

    /// <summary>The same error seen from a record that starts <paramref name="start"/> bytes earlier.</summary>
    public WireError At(long start) => new(Record, Field, Offset + start, Rule);

    public override string ToString() => IsEmpty ? "(no error)" : $"0x{Offset:x}: {Record}.{Field}: {Rule}";
}
