using System.Globalization;
using Qmig.Linux.Interop;

namespace Qmig.Linux;

/// <summary>
/// One message read from a userfaultfd. The kernel's union is kept as three raw words; the accessors
/// name them for each kind, so reading an event costs a copy of 32 bytes and no allocation.
/// </summary>
public readonly struct UffdEvent
{
    private readonly ulong _word0;
    private readonly ulong _word1;
    private readonly ulong _word2;

    /// <summary>An event from its kind and the three raw words of the kernel's union, e.g. to feed a fault handler in a test.</summary>
    public UffdEvent(UffdEventKind kind, ulong word0, ulong word1, ulong word2)
    {
        Kind = kind;
        _word0 = word0;
        _word1 = word1;
        _word2 = word2;
    }

    internal UffdEvent(in UffdMsg message)
        : this((UffdEventKind)message.Event, message.RemapFrom, message.RemapTo, message.RemapLength)
    {
    }

    /// <summary>Which event this is; it decides which of the accessors below mean anything.</summary>
    public UffdEventKind Kind { get; }

    /// <summary>PageFault: the faulting address, page-aligned unless UFFD_FEATURE_EXACT_ADDRESS was negotiated.</summary>
    public ulong Address => _word1;

    /// <summary>PageFault: write / write-protect / minor.</summary>
    public UffdPagefaultFlags Flags => (UffdPagefaultFlags)_word0;

    /// <summary>PageFault: the faulting thread's id, or 0 unless UFFD_FEATURE_THREAD_ID was negotiated.</summary>
    public uint ThreadId => (uint)_word2;

    /// <summary>Fork: the new userfaultfd the kernel created for the child (the child's copy of the registrations; the reader of the event owns it and must close it).</summary>
    public int ForkDescriptor => (int)(uint)_word0;

    /// <summary>Remap: old start address.</summary>
    public ulong RemapFrom => _word0;

    /// <summary>Remap: new start address.</summary>
    public ulong RemapTo => _word1;

    /// <summary>Remap: length in bytes.</summary>
    public ulong RemapLength => _word2;

    /// <summary>Remove / Unmap: first byte of the range.</summary>
    public ulong RangeStart => _word0;

    /// <summary>Remove / Unmap: one past the last byte of the range.</summary>
    public ulong RangeEnd => _word1;

    /// <summary>The event with the fields its kind uses, for logs.</summary>
    public override string ToString() => Kind switch
    {
        UffdEventKind.PageFault => string.Create(CultureInfo.InvariantCulture, $"pagefault address=0x{Address:X} flags={Flags} tid={ThreadId}"),
        UffdEventKind.Fork => string.Create(CultureInfo.InvariantCulture, $"fork uffd={ForkDescriptor}"),
        UffdEventKind.Remap => string.Create(CultureInfo.InvariantCulture, $"remap 0x{RemapFrom:X} -> 0x{RemapTo:X} len=0x{RemapLength:X}"),
        UffdEventKind.Remove => string.Create(CultureInfo.InvariantCulture, $"remove [0x{RangeStart:X}, 0x{RangeEnd:X})"),
        UffdEventKind.Unmap => string.Create(CultureInfo.InvariantCulture, $"unmap [0x{RangeStart:X}, 0x{RangeEnd:X})"),
        _ => string.Create(CultureInfo.InvariantCulture, $"event 0x{(byte)Kind:X2}"),
    };
}
