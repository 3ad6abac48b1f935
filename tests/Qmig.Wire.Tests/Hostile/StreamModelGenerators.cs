using FsCheck;
using FsCheck.Fluent;

namespace Qmig.Wire.Tests.Hostile;

/// <summary>FsCheck generators of valid <see cref="StreamModel"/>s (every stream they describe is one QEMU could send).</summary>
public static class StreamModelGenerators
{
    private static readonly string[] BlockNames = ["pc.ram", "vga.vram", "/rom@etc/acpi/tables", "pc.bios", "0000:00:02.0/e1000.rom", "x"];

    private static Gen<byte[]> Bytes(int min, int max) =>
        from n in Gen.Choose(min, max)
        from bytes in ArbMap.Default.GeneratorFor<byte>().ArrayOf(n)
        select bytes;

    /// <summary>A valid XBZRLE delta: pairs of (skip run, literal run), ULEB128 lengths, inside one page.</summary>
    public static Gen<byte[]> XbzrleDelta =>
        from runs in Gen.Choose(1, 4)
        from skips in Gen.Choose(0, 300).ArrayOf(runs)
        from literals in Bytes(1, 40).ArrayOf(runs)
        select EncodeXbzrle(skips, literals);

    private static byte[] EncodeXbzrle(int[] skips, byte[][] literals)
    {
        var output = new List<byte>();
        for (var i = 0; i < skips.Length; i++)
        {
            // Only the first zero run may be empty.
            Uleb(output, i == 0 ? skips[i] : Math.Max(1, skips[i]));
            Uleb(output, literals[i].Length);
            output.AddRange(literals[i]);
        }

        return [.. output];
    }

    private static void Uleb(List<byte> output, int value)
    {
        if (value < 0x80)
        {
            output.Add((byte)value);
            return;
        }

        output.Add((byte)(0x80 | (value & 0x7f)));
        output.Add((byte)(value >> 7));
    }

    private static Gen<PageModel> Page(bool allowXbzrle) =>
        from block in Gen.Choose(0, 100)
        from page in Gen.Choose(0, 1000)
        from kind in allowXbzrle ? Gen.Elements(PageKind.Zero, PageKind.Page, PageKind.Xbzrle) : Gen.Elements(PageKind.Zero, PageKind.Page)
        from fill in Gen.Frequency((4, Gen.Constant((byte)0)), (1, ArbMap.Default.GeneratorFor<byte>()))
        from data in kind == PageKind.Xbzrle ? XbzrleDelta : Bytes(1, 16)
        select new PageModel(block, page, kind, kind == PageKind.Zero ? fill : (byte)0, data);

    private static Gen<DeviceModel> Device =>
        from instance in Gen.Choose(0, 2)
        from version in Gen.Choose(1, 30)
        from body in Bytes(0, 120)
        select new DeviceModel("", (uint)instance, (uint)version, body);

    /// <summary>Devices named by position, so (idstr, instance) is unique and the vmdesc matches each.</summary>
    private static Gen<DeviceModel[]> Devices(int first, int max) =>
        from n in Gen.Choose(0, max)
        from devices in Device.ArrayOf(n)
        select devices.Select((d, i) => d with { Idstr = $"dev{first + i}/{(char)('a' + i)}" }).ToArray();

    public static Gen<StreamModel> Model =>
        from footers in Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false)))
        from vmdesc in footers ? ArbMap.Default.GeneratorFor<bool>() : Gen.Constant(true)
        from openReturnPath in ArbMap.Default.GeneratorFor<bool>()
        from ping in Gen.OneOf(Gen.Constant((uint?)null), Gen.Choose(0, int.MaxValue).Select(p => (uint?)p))
        from postcopy in ArbMap.Default.GeneratorFor<bool>()
        from blockCount in Gen.Choose(1, 3)
        from names in Gen.Shuffle(BlockNames)
        from sizes in Gen.Elements(1, 2, 3, 8, 17, 64).ArrayOf(blockCount)
        from iterations in Gen.Choose(1, 3).SelectMany(n => Gen.Choose(0, 12).SelectMany(p => Page(true).ArrayOf(p)).ArrayOf(n))
        from devices in Devices(0, 3)
        from packaged in postcopy ? Devices(10, 2) : Gen.Constant(Array.Empty<DeviceModel>())
        from discard in postcopy ? Discard.Select(d => (DiscardModel?)d) : Gen.Constant((DiscardModel?)null)
        from final in Gen.Choose(0, 6).SelectMany(p => Page(!postcopy).ArrayOf(p))
        select new StreamModel(footers, vmdesc, openReturnPath, ping, postcopy,
            names.Take(blockCount).Zip(sizes, (name, pages) => new BlockModel(name, pages)).ToArray(),
            iterations, devices, discard, packaged, final);

    private static Gen<DiscardModel> Discard =>
        from block in Gen.Choose(0, 100)
        from ranges in Gen.Choose(1, 3).SelectMany(n => Gen.Zip(Gen.Choose(0, 1000), Gen.Choose(1, 1000)).ArrayOf(n))
        select new DiscardModel(block, ranges.Select(r => (r.Item1, r.Item2)).ToArray());

    public static Arbitrary<StreamModel> Arbitrary => Model.ToArbitrary();
}
