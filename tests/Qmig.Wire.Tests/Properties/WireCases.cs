using FsCheck;
using Xunit;
using Qmig.Wire.Tests.Properties.Cases;

namespace Qmig.Wire.Tests.Properties;

/// <summary>
/// The generator of valid values for every generated record type. The properties run once per
/// entry; <see cref="CoverageTests"/> fails when a type of the Qmig.Wire assembly or of the spec
/// files has no entry here.
/// </summary>
public static class WireCases
{
    public static IReadOnlyDictionary<Type, Gen<WireCase>> ByType { get; } = new Dictionary<Type, Gen<WireCase>>
    {
        // stream.ksy
        [typeof(FileHeader)] = FileHeaderCase.Values,
        [typeof(Configuration)] = ConfigurationCase.Values,
        [typeof(SubsectionHeader)] = SubsectionHeaderCase.Values,
        [typeof(ConfigTargetPageBits)] = ConfigTargetPageBitsCase.Values,
        [typeof(ConfigCapabilities)] = ConfigCapabilitiesCase.Values,
        [typeof(CapabilityName)] = CapabilityNameCase.Values,
        [typeof(ConfigUuid)] = ConfigUuidCase.Values,
        [typeof(SectionHeaderStartFull)] = SectionHeaderStartFullCase.Values,
        [typeof(SectionHeaderPartEnd)] = SectionHeaderPartEndCase.Values,
        [typeof(SectionFooter)] = SectionFooterCase.Values,
        [typeof(EndOfSections)] = EndOfSectionsCase.Values,
        [typeof(VmDescription)] = VmDescriptionCase.Values,

        // command.ksy
        [typeof(Command)] = CommandCase.Values,
        [typeof(Ping)] = PingCase.Values,
        [typeof(PostcopyAdvise)] = PostcopyAdviseCase.Values,
        [typeof(PostcopyRamDiscard)] = PostcopyRamDiscardCase.Values,
        [typeof(DiscardRange)] = DiscardRangeCase.Values,
        [typeof(Packaged)] = PackagedCase.Values,
        [typeof(RecvBitmap)] = RecvBitmapCase.Values,

        // ram.ksy
        [typeof(RamRecord)] = RamRecordCase.Values,
        [typeof(RamBlockEntry)] = RamBlockEntryCase.Values,
        [typeof(MappedRamHeader)] = MappedRamHeaderCase.Values,

        // return_path.ksy
        [typeof(RpMessage)] = RpMessageCase.Values,
        [typeof(Shut)] = ShutCase.Values,
        [typeof(Pong)] = PongCase.Values,
        [typeof(ReqPagesId)] = ReqPagesIdCase.Values,
        [typeof(ReqPages)] = ReqPagesCase.Values,
        [typeof(RpRecvBitmap)] = RpRecvBitmapCase.Values,
        [typeof(ResumeAck)] = ResumeAckCase.Values,
        [typeof(RecvBitmapBlob)] = RecvBitmapBlobCase.Values,
    };

    /// <summary>The covered types by name, for <c>[MemberData]</c> (a name reads better in the test list than a Type).</summary>
    public static TheoryData<string> TypeNames()
    {
        var data = new TheoryData<string>();
        foreach (var type in ByType.Keys.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            data.Add(type.Name);
        }

        return data;
    }

    public static Gen<WireCase> For(string typeName) =>
        ByType.Single(e => e.Key.Name == typeName).Value;
}
