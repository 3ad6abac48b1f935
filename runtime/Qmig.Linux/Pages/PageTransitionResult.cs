using Qmig.Linux.Machines;

namespace Qmig.Linux.Pages;

/// <summary>
/// What <see cref="PageStateArray.TryApply"/> did: either applied a legal move (<see cref="Previous"/> →
/// <see cref="Current"/>), or refused one that the page machine does not allow from the state the page
/// was in (then <see cref="Previous"/> == <see cref="Current"/> == that state, and nothing was written).
/// </summary>
public readonly record struct PageTransitionResult(bool Applied, PageMachine.State Previous, PageMachine.State Current, PageMachine.Trigger Trigger)
{
    /// <summary>True when the page machine did not allow the move and nothing was written.</summary>
    public bool Refused => !Applied;

    /// <summary>The move as <c>trigger: previous -&gt; current</c>, or the refusal, for logs and test messages.</summary>
    public override string ToString() => Applied
        ? $"{Trigger}: {Previous} -> {Current}"
        : $"{Trigger}: refused in {Previous}";
}
