using System.Runtime.InteropServices;

namespace Qmig.Linux;

/// <summary>One piece of a gathered send: <see cref="Length"/> bytes at <see cref="Start"/>, laid out as <c>struct iovec</c>.</summary>
/// <param name="start">The first byte; the memory must stay valid until the send that takes it returns.</param>
/// <param name="length">How many bytes.</param>
[StructLayout(LayoutKind.Sequential)]
public readonly struct GatherSegment(nint start, nuint length)
{
    /// <summary>The first byte.</summary>
    public nint Start { get; } = start;

    /// <summary>How many bytes.</summary>
    public nuint Length { get; } = length;
}
