namespace Qmig.Linux;

/// <summary>
/// Summary of an idempotent placement over a range (see <see cref="Userfaultfd.CopyIdempotent"/>): how
/// many bytes this call filled, how many were found already mapped (EEXIST) and skipped, and how many
/// times EAGAIN made it issue the ioctl again.
/// </summary>
public readonly record struct UffdPlacement(ulong BytesFilled, ulong BytesAlreadyPresent, int Retries)
{
    /// <summary>Adds up the outcomes of several calls, e.g. one per chunk of a large range.</summary>
    public static UffdPlacement operator +(UffdPlacement left, UffdPlacement right)
        => new(left.BytesFilled + right.BytesFilled, left.BytesAlreadyPresent + right.BytesAlreadyPresent, left.Retries + right.Retries);
}
