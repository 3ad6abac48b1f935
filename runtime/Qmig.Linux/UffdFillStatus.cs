namespace Qmig.Linux;

/// <summary>How one UFFDIO_COPY / ZEROPAGE / CONTINUE request ended, for the outcomes that are not errors.</summary>
public enum UffdFillStatus : byte
{
    /// <summary>The whole range was filled (and woken, unless DONTWAKE).</summary>
    Completed,

    /// <summary>
    /// EEXIST: the first page of the range is already mapped (another placer won a race, or the page was
    /// populated some other way). Nothing was filled by this call.
    /// </summary>
    AlreadyPresent,

    /// <summary>
    /// EAGAIN with a positive count: the kernel filled the first <see cref="UffdFillResult.Bytes"/> bytes
    /// (and woke waiters on them) and stopped, typically at an already-mapped page or on a pending signal.
    /// </summary>
    Partial,

    /// <summary>
    /// EAGAIN with nothing filled: the address space is changing (a fork/remap/remove/unmap event is
    /// pending for this descriptor). Retry after the event reader has consumed its events.
    /// </summary>
    TryAgain,
}
