namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// A byte array inside a generated case. It exists for the case's printout: when a property fails,
/// FsCheck prints the case, and a record prints a bare byte[] as "System.Byte[]".
/// </summary>
public sealed record Bytes(byte[] Value)
{
    public static readonly Bytes Empty = new([]);

    public int Length => Value.Length;

    public ReadOnlySpan<byte> Span => Value;

    public static implicit operator ReadOnlySpan<byte>(Bytes bytes) => bytes.Value;

    public override string ToString()
    {
        const int Shown = 32;
        var hex = Convert.ToHexString(Value.AsSpan(0, Math.Min(Value.Length, Shown)));
        return Value.Length <= Shown ? $"[{Value.Length}] {hex}" : $"[{Value.Length}] {hex}…";
    }
}
