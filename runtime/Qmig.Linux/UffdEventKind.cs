namespace Qmig.Linux;

/// <summary>UFFD_EVENT_*: the <c>event</c> byte of a message read from the descriptor.</summary>
public enum UffdEventKind : byte
{
    PageFault = 0x12,
    Fork = 0x13,
    Remap = 0x14,
    Remove = 0x15,
    Unmap = 0x16,
}
