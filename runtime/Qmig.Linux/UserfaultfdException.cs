namespace Qmig.Linux;

/// <summary>A userfaultfd request failed with an errno that is not one of the outcomes handled in-band (EEXIST, EAGAIN).</summary>
public sealed class UserfaultfdException : IOException
{
    public UserfaultfdException(string operation, int errno, string message)
        : base(message)
    {
        Operation = operation;
        Errno = errno;
    }

    public UserfaultfdException()
    {
        Operation = string.Empty;
    }

    public UserfaultfdException(string message)
        : base(message)
    {
        Operation = string.Empty;
    }

    public UserfaultfdException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = string.Empty;
    }

    /// <summary>The request that failed, e.g. "UFFDIO_COPY".</summary>
    public string Operation { get; }

    public int Errno { get; }
}
