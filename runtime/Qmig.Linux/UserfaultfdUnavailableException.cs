namespace Qmig.Linux;

/// <summary>
/// The kernel refused to give this process a working userfaultfd. The message says which refusal it was
/// and how to fix it; <see cref="Errno"/> is the errno of the (last) attempt. It is a
/// <see cref="NotSupportedException"/>: postcopy cannot run in this process as it is set up.
/// </summary>
public sealed class UserfaultfdUnavailableException : NotSupportedException
{
    /// <summary>The kernel refused with <paramref name="errno"/>; <paramref name="message"/> says how to fix it.</summary>
    public UserfaultfdUnavailableException(string message, int errno)
        : base(message)
    {
        Errno = errno;
    }

    /// <summary>A refusal with no details, for serializers and the usual exception constructors.</summary>
    public UserfaultfdUnavailableException()
    {
    }

    /// <summary>A refusal described by <paramref name="message"/> alone.</summary>
    public UserfaultfdUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>A refusal caused by <paramref name="innerException"/>.</summary>
    public UserfaultfdUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The errno of the last attempt, e.g. EPERM when vm.unprivileged_userfaultfd forbids it; 0 when not known.</summary>
    public int Errno { get; }
}
