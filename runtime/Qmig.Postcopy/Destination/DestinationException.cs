namespace Qmig.Postcopy.Destination;

/// <summary>The incoming migration failed; the message says where and what was lost.</summary>
public sealed class DestinationException : Exception
{
    public DestinationException(string message)
        : base(message)
    {
    }

    public DestinationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DestinationException()
    {
    }
}
