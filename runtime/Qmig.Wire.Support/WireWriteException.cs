using System.Buffers;
using System.Runtime.CompilerServices;

namespace Qmig.Wire;

/// <summary>Thrown by generated <c>Write</c> methods for values that break the spec (TryWrite returns InvalidData instead).</summary>
public sealed class WireWriteException : ArgumentException
{
    public WireWriteException(string record, string rule)
        : base($"{record}: {rule}")
    {
        Record = record;
        Rule = rule;
    }

    public string Record { get; }

    public string Rule { get; }
}
