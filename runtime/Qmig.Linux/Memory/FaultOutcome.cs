namespace Qmig.Linux.Memory;

/// <summary>The disposition of one fault, with the block and the page-aligned offset it hit (null/0 when outside).</summary>
public readonly record struct FaultOutcome(FaultDisposition Disposition, RamBlockMemory? Block, ulong Offset);
