using FsCheck;
using FsCheck.Fluent;

namespace Qmig.Wire.Tests.Hostile;

public static class MutationGenerators
{
    /// <summary>Inserted bytes lean towards what changes the reader's course: record types, footers, large lengths.</summary>
    private static Gen<byte> InterestingByte => Gen.Frequency(
        (4, ArbMap.Default.GeneratorFor<byte>()),
        (2, Gen.Elements<byte>(0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x7e, 0xff, 0x20, 0x10)));

    public static Gen<Mutation> Mutation =>
        from kind in Gen.Elements(Enum.GetValues<MutationKind>())
        from at in Gen.Choose(0, int.MaxValue)
        from length in Gen.Choose(0, 64)
        from other in Gen.Choose(0, int.MaxValue)
        from n in Gen.Choose(1, 12)
        from bytes in InterestingByte.ArrayOf(n)
        select new Mutation(kind, at, length, other, bytes);

    public static Gen<Mutation[]> Mutations => Gen.Choose(1, 4).SelectMany(n => Mutation.ArrayOf(n));

    public static Arbitrary<Mutation[]> Arbitrary => Mutations.ToArbitrary();
}
