namespace Qmig.Linux.Memory;

/// <summary>What the fault thread should do about a page fault, decided by the page's state.</summary>
public enum FaultDisposition
{
    /// <summary>The page went missing → requested: send a page request to the source.</summary>
    RequestPage,

    /// <summary>A request for the page is already outstanding; the placement will wake the faulting thread.</summary>
    AlreadyRequested,

    /// <summary>The page was already received (the fault raced its placement); the faulting thread has been woken.</summary>
    AlreadyReceived,

    /// <summary>The address is in none of the blocks.</summary>
    OutsideGuestMemory,
}
