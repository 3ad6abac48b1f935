namespace Qmig.Wire.VmState;

/// <summary>
/// Where a device body stopped matching its vmdesc: the offset inside the body, the field path
/// (e.g. <c>cpu.env.fpregs[3].tmp.tmp_mant</c>) and what was wrong.
/// </summary>
public sealed record VmStateError(int Offset, string Path, string Message)
{
    /// <summary>The mismatch as one line: field path, body offset, what was wrong.</summary>
    public override string ToString() => $"{Path} (body offset 0x{Offset:x}): {Message}";
}
