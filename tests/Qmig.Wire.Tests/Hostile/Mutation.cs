namespace Qmig.Wire.Tests.Hostile;

public enum MutationKind
{
    BitFlip,
    Insert,
    Delete,
    Truncate,
    Splice,
    Overwrite,
}

/// <summary>
/// One damage done to a stream. Positions are taken modulo the stream's length when applied, so
/// any generated value is usable on any stream.
/// </summary>
public sealed record Mutation(MutationKind Kind, int At, int Length, int Other, byte[] Bytes)
{
    public byte[] Apply(byte[] input, IReadOnlyList<long>? boundaries = null)
    {
        if (input.Length == 0)
        {
            return Kind == MutationKind.Insert ? Bytes : input;
        }

        var at = At % input.Length;
        var length = 1 + Length % Math.Max(1, Math.Min(input.Length - at, 64));
        switch (Kind)
        {
            case MutationKind.BitFlip:
                var flipped = (byte[])input.Clone();
                flipped[at] ^= (byte)(1 << (Other & 7));
                return flipped;
            case MutationKind.Insert:
                return [.. input.AsSpan(0, at), .. Bytes, .. input.AsSpan(at)];
            case MutationKind.Delete:
                return [.. input.AsSpan(0, at), .. input.AsSpan(at + length)];
            case MutationKind.Truncate:
                return input.AsSpan(0, at).ToArray();
            case MutationKind.Overwrite:
                var written = (byte[])input.Clone();
                Bytes.AsSpan(0, Math.Min(Bytes.Length, input.Length - at)).CopyTo(written.AsSpan(at));
                return written;
            default:
                // Splice: a copy of one record (or of any range, without boundaries) lands at another record boundary.
                int from, count, to;
                // Earlier mutations may have shortened the stream: only boundaries still inside it count.
                var inside = boundaries?.Where(b => b <= input.Length).ToArray();
                if (inside is { Length: > 2 })
                {
                    boundaries = inside;
                    var r = At % (boundaries.Count - 1);
                    from = (int)boundaries[r];
                    count = (int)Math.Min(boundaries[r + 1] - from, 1 << 16);
                    to = (int)boundaries[Other % boundaries.Count];
                }
                else
                {
                    from = at;
                    count = length;
                    to = Other % input.Length;
                }

                return [.. input.AsSpan(0, to), .. input.AsSpan(from, count), .. input.AsSpan(to)];
        }
    }

    public override string ToString() => $"{Kind} at {At} length {Length} other {Other} bytes {Convert.ToHexString(Bytes)}";
}
