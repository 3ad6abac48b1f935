namespace Qmig.Linux;

/// <summary>The result of one fill ioctl: its status and how many bytes it filled.</summary>
public readonly record struct UffdFillResult(UffdFillStatus Status, ulong Bytes);
