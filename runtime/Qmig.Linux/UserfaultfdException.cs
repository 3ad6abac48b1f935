namespace Qmig.Linux;

/// <summary>A userfaultfd request failed with an errno that is not one of the outcomes handled in-band (EEXIST, EAGAIN).</summary>
public sealed class UserfaultfdException : IOException
{
    /// <summary>The request <paramref name="operation"/> failed with <paramref name="errno"/>; <paramref name="message"/> says what was being done.</summary>
    public UserfaultfdException(string operation, int errno, string message)
        : base(message)
    {
        Operation = operation;
        Errno = errno;
    }

    /// <summary>A failure with no details, for serializers and the usual exception constructors.</summary>
    public UserfaultfdException()
    {
        Operation = string.Empty;
    }

    /// <summary>A failure described by <paramref name="message"/> alone.</summary>
    public UserfaultfdException(string message)
        : base(message)
    {
        Operation = string.Empty;
    }

    /// <summary>A failure caused by <paramref name="innerException"/>.</summary>
    public UserfaultfdException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = string.Empty;
    }

    /// <summary>The request that failed, e.g. "UFFDIO_COPY".</summary>
    public string Operation { get; }

    /// <summary>The errno the kernel returned, e.g. ENOENT when the range is not registered; 0 when not known.</summary>
    public int Errno { get; }
}
