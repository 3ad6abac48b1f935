using System.Buffers;
using System.Runtime.CompilerServices;

namespace Qmig.Wire;

/// <summary>Thrown by generated <c>Write</c> methods for values that break the spec (TryWrite returns InvalidData instead).</summary>
public sealed class WireWriteException : ArgumentException
{
    /// <summary>Names the record being written and the spec rule its values break.</summary>
    public WireWriteException(string record, string rule)
        : base($"{record}: {rule}")
    {
        Record = record;
        Rule = rule;
    }

    /// <summary>The spec id of the record that could not be written.</summary>
    public string Record { get; }

    /// <summary>The spec rule the values break, as the spec states it.</summary>
    public string Rule { get; }
}
