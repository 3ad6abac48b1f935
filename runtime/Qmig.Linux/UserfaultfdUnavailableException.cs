namespace Qmig.Linux;

/// <summary>
/// The kernel refused to give this process a working userfaultfd. The message says which refusal it was
/// and how to fix it; <see cref="Errno"/> is the errno of the (last) attempt.
/// </summary>
public sealed class UserfaultfdUnavailableException : Exception
{
    public UserfaultfdUnavailableException(string message, int errno)
        : base(message)
    {
        Errno = errno;
    }

    public UserfaultfdUnavailableException()
    {
    }

    public UserfaultfdUnavailableException(string message)
        : base(message)
    {
    }

    public UserfaultfdUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int Errno { get; }
}
