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
    /// <summary>An error at <paramref name="offset"/> bytes into the record, where <paramref name="rule"/> failed for <paramref name="field"/>.</summary>
    public WireError(string record, string field, long offset, string rule)
    {
        Record = record;
        Field = field;
        Offset = offset;
        Rule = rule;
    }

    /// <summary>The spec id of the innermost record that broke a rule, e.g. <c>section_header</c>.</summary>
    public string Record { get; }

    /// <summary>The spec id of the field whose rule failed, e.g. <c>len</c>.</summary>
    public string Field { get; }

    /// <summary>Bytes from the start of the outermost record read to the bad field; a caller adds the record's own stream offset.</summary>
    public long Offset { get; }

    /// <summary>The rule as the spec states it (its <c>valid</c>, <c>contents</c> or size), for the error message.</summary>
    public string Rule { get; }

    /// <summary>True for <c>default</c>: the read did not fail, so there is nothing to report.</summary>
    public bool IsEmpty => Record is null;

    /// <summary>The same error seen from a record that starts <paramref name="start"/> bytes earlier.</summary>
    public WireError At(long start) => new(Record, Field, Offset + start, Rule);

    /// <summary>The error as one line, <c>0xOFFSET: record.field: rule</c>.</summary>
    public override string ToString() => IsEmpty ? "(no error)" : $"0x{Offset:x}: {Record}.{Field}: {Rule}";
}
