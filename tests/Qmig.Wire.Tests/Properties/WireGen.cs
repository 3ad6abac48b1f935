using FsCheck;
using FsCheck.Fluent;

namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// Building blocks for the per-type generators: integers over their whole range with the edge
/// values over-represented, and byte arrays filled from a seed (a generator per byte would make
/// 4 KiB pages slow to generate).
/// </summary>
public static class WireGen
{
    public static readonly Gen<byte> U8 = Gen.Choose(0, 255).Select(v => (byte)v);

    public static readonly Gen<ushort> U16 = Gen.Frequency(
        (1, Gen.Elements<ushort>(0, 1, 0x7fff, 0x8000, ushort.MaxValue)),
        (4, Gen.Choose(0, ushort.MaxValue).Select(v => (ushort)v)));

    public static readonly Gen<uint> U32 = Gen.Frequency(
        (1, Gen.Elements(0u, 1u, 0x7fff_ffffu, 0x8000_0000u, uint.MaxValue)),
        (4, Gen.Choose(0, ushort.MaxValue).Two().Select(t => ((uint)t.Item1 << 16) | (uint)t.Item2)));

    public static readonly Gen<ulong> U64 = Gen.Frequency(
        (1, Gen.Elements(0UL, 1UL, (1UL << 53) + 1, 0x7fff_ffff_ffff_ffffUL, 0x8000_0000_0000_0000UL, ulong.MaxValue)),
        (4, U32.Two().Select(t => ((ulong)t.Item1 << 32) | t.Item2)));

    public static readonly Gen<bool> Bool = Gen.Elements(false, true);

    /// <summary>A byte array of <paramref name="min"/> to <paramref name="max"/> bytes; shorter ones more often, the bounds always reachable.</summary>
    public static Gen<Bytes> BytesOf(int min, int max) =>
        Gen.Frequency(
                (1, Gen.Elements(min, max)),
                (3, Gen.Choose(min, Math.Min(max, min + 16))),
                (2, Gen.Choose(min, max)))
            .SelectMany(ExactBytes);

    /// <summary>A byte array of exactly <paramref name="length"/> bytes: random, all zero or all 0xff.</summary>
    public static Gen<Bytes> ExactBytes(int length) =>
        Gen.Zip(Gen.Choose(int.MinValue, int.MaxValue), Gen.Choose(0, 9)).Select(t =>
        {
            var bytes = new byte[length];
            switch (t.Item2)
            {
                case 0:
                    break;
                case 1:
                    bytes.AsSpan().Fill(0xff);
                    break;
                default:
                    new Random(t.Item1).NextBytes(bytes);
                    break;
            }

            return new Bytes(bytes);
        });
}
