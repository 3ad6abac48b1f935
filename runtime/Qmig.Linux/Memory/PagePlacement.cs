namespace Qmig.Linux.Memory;

/// <summary>
/// What one placement call did. <see cref="PagesFilled"/> were mapped by this call;
/// <see cref="PagesAlreadyPresent"/> were found mapped (EEXIST: another placer won the race).
/// <see cref="PagesMarkedReceived"/> counts the state moves this call applied (missing or requested →
/// received); <see cref="PagesAlreadyReceived"/> the moves refused because the page was already received.
/// Filled + present = marked + already received = pages in the call.
/// </summary>
public readonly record struct PagePlacement(long PagesFilled, long PagesAlreadyPresent, long PagesMarkedReceived, long PagesAlreadyReceived, int Retries)
{
    /// <summary>Adds up the outcomes of several calls, e.g. over a run of pages placed in batches.</summary>
    public static PagePlacement operator +(PagePlacement left, PagePlacement right) => new(
        left.PagesFilled + right.PagesFilled,
        left.PagesAlreadyPresent + right.PagesAlreadyPresent,
        left.PagesMarkedReceived + right.PagesMarkedReceived,
        left.PagesAlreadyReceived + right.PagesAlreadyReceived,
        left.Retries + right.Retries);
}
