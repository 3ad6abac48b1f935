using Qmig.Wire.Tests.Properties;
using Qmig.Wire.Tests.Properties.Cases;
using Xunit;

namespace Qmig.Wire.Tests.Allocation;

/// <summary>
/// One fixed value per record kind for the allocation test: every generated record type, and for
/// the types whose layout depends on their content (RAM record kinds, command and return-path
/// payload cases, optional block-entry fields) one value per layout.
/// </summary>
public static class AllocationCases
{
    private static readonly Bytes PcRam = new("pc.ram"u8.ToArray());

    private static readonly Bytes Page = Filled(4096);

    public static IReadOnlyDictionary<string, WireCase> ByName { get; } = new Dictionary<string, WireCase>
    {
        ["FileHeader"] = new FileHeaderCase(),
        ["Configuration"] = new ConfigurationCase(new Bytes("pc-i440fx-7.2"u8.ToArray())),
        ["SubsectionHeader"] = new SubsectionHeaderCase(new Bytes("configuration/capabilities"u8.ToArray()), 1),
        ["ConfigTargetPageBits"] = new ConfigTargetPageBitsCase(12),
        ["ConfigCapabilities"] = new ConfigCapabilitiesCase(Concat(new CapabilityNameCase(new Bytes("x-ignore-shared"u8.ToArray())), new CapabilityNameCase(new Bytes("mapped-ram"u8.ToArray()))), 2),
        ["CapabilityName"] = new CapabilityNameCase(new Bytes("x-ignore-shared"u8.ToArray())),
        ["ConfigUuid"] = new ConfigUuidCase(Filled(16)),
        ["SectionHeaderStartFull"] = new SectionHeaderStartFullCase(VmSectionType.SectionStart, 2, new Bytes("ram"u8.ToArray()), 0, 4),
        ["SectionHeaderPartEnd"] = new SectionHeaderPartEndCase(VmSectionType.SectionPart, 2),
        ["SectionFooter"] = new SectionFooterCase(2),
        ["EndOfSections"] = new EndOfSectionsCase(),
        ["VmDescription"] = new VmDescriptionCase(new Bytes("{\"page_size\":4096,\"devices\":[]}"u8.ToArray())),

        ["Command(Ping)"] = Command(MigCmd.Ping, new PingCase(2)),
        ["Command(PostcopyAdvise)"] = Command(MigCmd.PostcopyAdvise, new PostcopyAdviseCase(16, 0x1000, 0x1000)),
        ["Command(PostcopyRamDiscard)"] = Command(MigCmd.PostcopyRamDiscard, DiscardCase()),
        ["Command(Packaged)"] = Command(MigCmd.Packaged, new PackagedCase(4096)),
        ["Command(RecvBitmap)"] = Command(MigCmd.RecvBitmap, new RecvBitmapCase(PcRam)),
        ["Command(PostcopyRun)"] = new CommandCase(MigCmd.PostcopyRun, Bytes.Empty, null),
        ["Ping"] = new PingCase(2),
        ["PostcopyAdvise"] = new PostcopyAdviseCase(16, 0x1000, 0x1000),
        ["PostcopyRamDiscard"] = DiscardCase(),
        ["DiscardRange"] = new DiscardRangeCase(0x10000, 0x2000),
        ["Packaged"] = new PackagedCase(4096),
        ["RecvBitmap"] = new RecvBitmapCase(PcRam),

        ["RamRecord(PAGE)"] = Ram(RamSaveFlag.Page, PcRam),
        ["RamRecord(PAGE|CONTINUE)"] = Ram(RamSaveFlag.Page | RamSaveFlag.ContinueBlock, Bytes.Empty),
        ["RamRecord(ZERO)"] = Ram(RamSaveFlag.Zero, PcRam),
        ["RamRecord(ZERO|CONTINUE)"] = Ram(RamSaveFlag.Zero | RamSaveFlag.ContinueBlock, Bytes.Empty),
        ["RamRecord(XBZRLE)"] = Ram(RamSaveFlag.Xbzrle, PcRam, xbzrle: Filled(300)),
        ["RamRecord(COMPRESS_PAGE)"] = Ram(RamSaveFlag.CompressPage, PcRam, compressed: Filled(700)),
        ["RamRecord(MEM_SIZE)"] = Ram(RamSaveFlag.MemSize, Bytes.Empty, offset: 0x3000000),
        ["RamRecord(EOS)"] = Ram(RamSaveFlag.Eos, Bytes.Empty, offset: 0),
        ["RamRecord(MULTIFD_FLUSH)"] = Ram(RamSaveFlag.MultifdFlush, Bytes.Empty, offset: 0),
        ["RamBlockEntry"] = new RamBlockEntryCase(false, false, PcRam, 0x2000000, 0, 0),
        ["RamBlockEntry(page_size, mr_addr)"] = new RamBlockEntryCase(true, true, PcRam, 0x2000000, 0x200000, 0x100000),
        ["MappedRamHeader"] = new MappedRamHeaderCase(1, 4096, 0x100000, 0x200000),

        ["RpMessage(Shut)"] = Rp(MigRpMsg.Shut, new ShutCase(0)),
        ["RpMessage(Pong)"] = Rp(MigRpMsg.Pong, new PongCase(0x42)),
        ["RpMessage(ReqPagesId)"] = Rp(MigRpMsg.ReqPagesId, new ReqPagesIdCase(0x7000, 4096, PcRam)),
        ["RpMessage(ReqPages)"] = Rp(MigRpMsg.ReqPages, new ReqPagesCase(0x8000, 4096)),
        ["RpMessage(RecvBitmap)"] = Rp(MigRpMsg.RecvBitmap, new RpRecvBitmapCase(PcRam)),
        ["RpMessage(ResumeAck)"] = Rp(MigRpMsg.ResumeAck, new ResumeAckCase()),
        ["RpMessage(SwitchoverAck)"] = new RpMessageCase(MigRpMsg.SwitchoverAck, Bytes.Empty, null),
        ["Shut"] = new ShutCase(0),
        ["Pong"] = new PongCase(0x42),
        ["ReqPagesId"] = new ReqPagesIdCase(0x7000, 4096, PcRam),
        ["ReqPages"] = new ReqPagesCase(0x8000, 4096),
        ["RpRecvBitmap"] = new RpRecvBitmapCase(PcRam),
        ["ResumeAck"] = new ResumeAckCase(),
        ["RecvBitmapBlob"] = new RecvBitmapBlobCase(Filled(1024)),
    };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in ByName.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    private static WireCase Command(MigCmd cmd, WireCase payload) => new CommandCase(cmd, new Bytes(payload.EncodeForPayload()), payload);

    private static WireCase Rp(MigRpMsg type, WireCase payload) => new RpMessageCase(type, new Bytes(payload.EncodeForPayload()), payload);

    private static PostcopyRamDiscardCase DiscardCase() =>
        new(PcRam, Concat(new DiscardRangeCase(0, 0x1000), new DiscardRangeCase(0x10000, 0x3000), new DiscardRangeCase(0x200000, 0x1000)), 3);

    private static RamRecordCase Ram(RamSaveFlag flags, Bytes blockId, ulong offset = 0x1234000, Bytes? xbzrle = null, Bytes? compressed = null) =>
        new(4096, offset | (ulong)flags, blockId, 0, (flags & RamSaveFlag.Page) != 0 ? Page : Bytes.Empty, 1, xbzrle ?? Bytes.Empty, compressed ?? Bytes.Empty);

    private static Bytes Concat(params WireCase[] elements) => new(elements.SelectMany(e => e.EncodeForPayload()).ToArray());

    private static Bytes Filled(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return new Bytes(bytes);
    }
}
