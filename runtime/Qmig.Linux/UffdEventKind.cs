namespace Qmig.Linux;

/// <summary>UFFD_EVENT_*: the <c>event</c> byte of a message read from the descriptor.</summary>
public enum UffdEventKind : byte
{
    /// <summary>A thread touched a registered page that is missing (or write-protected); it waits until the page is placed.</summary>
    PageFault = 0x12,
    /// <summary>The process forked and the child got its own userfaultfd (needs <see cref="UffdFeatures.EventFork"/>).</summary>
    Fork = 0x13,
    /// <summary>A registered range was moved by mremap (needs <see cref="UffdFeatures.EventRemap"/>).</summary>
    Remap = 0x14,
    /// <summary>Pages of a registered range were dropped by madvise (needs <see cref="UffdFeatures.EventRemove"/>).</summary>
    Remove = 0x15,
    /// <summary>A registered range was unmapped (needs <see cref="UffdFeatures.EventUnmap"/>).</summary>
    Unmap = 0x16,
}
