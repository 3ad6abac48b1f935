namespace Qmig.Linux;

/// <summary>
/// The ioctl mask the kernel returns from UFFDIO_API (for the descriptor) and UFFDIO_REGISTER (for a
/// range): bit n set means the request with command number n is available.
/// </summary>
[Flags]
public enum UffdIoctls : ulong
{
    /// <summary>No request available.</summary>
    None = 0,
    /// <summary>UFFDIO_REGISTER: start trapping faults on a range.</summary>
    Register = 1UL << 0x00,
    /// <summary>UFFDIO_UNREGISTER: stop trapping faults on a range.</summary>
    Unregister = 1UL << 0x01,
    /// <summary>UFFDIO_WAKE: wake threads waiting on a range without filling it.</summary>
    Wake = 1UL << 0x02,
    /// <summary>UFFDIO_COPY: fill missing pages with given bytes and wake their waiters.</summary>
    Copy = 1UL << 0x03,
    /// <summary>UFFDIO_ZEROPAGE: fill missing pages with zeros, with no source buffer.</summary>
    ZeroPage = 1UL << 0x04,
    /// <summary>UFFDIO_MOVE: move pages into the range instead of copying them.</summary>
    Move = 1UL << 0x05,
    /// <summary>UFFDIO_WRITEPROTECT: set or clear write protection on a range.</summary>
    WriteProtect = 1UL << 0x06,
    /// <summary>UFFDIO_CONTINUE: map a page already in the page cache, resolving a minor fault.</summary>
    Continue = 1UL << 0x07,
    /// <summary>UFFDIO_POISON: mark pages so touching them raises a memory error.</summary>
    Poison = 1UL << 0x08,
    /// <summary>UFFDIO_API: the handshake that negotiates features.</summary>
    Api = 1UL << 0x3F,
}
