namespace Qmig.Postcopy.Destination;

/// <summary>The incoming migration failed; the message says where and what was lost.</summary>
public sealed class DestinationException : Exception
{
    /// <summary>A failure that <paramref name="message"/> describes: where in the stream, and what the guest lost.</summary>
    public DestinationException(string message)
        : base(message)
    {
    }

    /// <summary>A failure that <paramref name="innerException"/> caused (a socket or memory error); <paramref name="message"/> says what it broke.</summary>
    public DestinationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A failure with no details, for serializers and the usual exception constructors.</summary>
    public DestinationException()
    {
    }
}
