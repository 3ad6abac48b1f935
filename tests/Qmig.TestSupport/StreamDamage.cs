namespace Qmig.TestSupport;

/// <summary>
/// Seeded damage of a real migration stream, for properties that play it into a reader or an
/// engine: a bit flip near the start, eight random bytes, a block taken out, or a cut.
/// </summary>
public static class StreamDamage
{
    /// <summary>Damages <paramref name="stream"/> in place (or shortens it: <paramref name="length"/>); says what it did, for the failure message.</summary>
    public static string Apply(byte[] stream, Random random, out int length)
    {
        length = stream.Length;
        switch (random.Next(4))
        {
            case 0:
                {
                    // The first 64 KiB: header, configuration, block list (and mapped-ram headers), the first records.
                    var at = random.Next(Math.Min(stream.Length, 65536));
                    stream[at] ^= (byte)(1 << random.Next(8));
                    return $"bit flipped at {at}";
                }

            case 1:
                {
                    // Eight bytes anywhere, 8-aligned: often a RAM record's offset-and-flags word.
                    var at = random.Next(stream.Length / 8) * 8;
                    random.NextBytes(stream.AsSpan(at, 8));
                    return $"8 random bytes at {at}";
                }

            case 2:
                {
                    var at = random.Next(stream.Length - 8192);
                    var cut = 1 + random.Next(8192);
                    Array.Copy(stream, at + cut, stream, at, stream.Length - at - cut);
                    length -= cut;
                    return $"{cut} bytes taken out at {at}";
                }

            default:
                length = random.Next(stream.Length);
                return $"cut to {length} bytes";
        }
    }
}
