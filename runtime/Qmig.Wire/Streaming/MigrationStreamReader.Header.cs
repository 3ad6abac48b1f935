using System.Buffers;

namespace Qmig.Wire.Streaming;

public sealed partial class MigrationStreamReader
{
    private int _pageSize;
    private bool _hasMrAddr;
    private bool _mappedRam;

    /// <summary>Capability names the configuration record validated (x-ignore-shared, mapped-ram).</summary>
    public IReadOnlyList<string> ValidatedCapabilities => _capabilities;

    private List<string> _capabilities = [];

    private OperationStatus ReadFileHeader<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var status = FileHeader.TryRead(rest, out var header, out consumed, out var error);
        if (status == OperationStatus.InvalidData)
        {
            return FailRecord(error, MigrationRules.BadHeader);
        }

        if (status == OperationStatus.Done)
        {
            visitor.OnFileHeader(Info(RecordKind.FileHeader, rest.Slice(0, consumed)), header.Version);
            _phase = Phase.AfterHeader;
        }

        return status;
    }

    /// <summary>The configuration record is optional (send-configuration=off): absent, the section list starts.</summary>
    private OperationStatus ReadConfiguration<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        if (rest.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        if (rest[0] != (byte)VmSectionType.Configuration)
        {
            _phase = Phase.TopLevel;
            return OperationStatus.Done;
        }

        var status = Configuration.TryRead(rest, out var configuration, out consumed, out var error);
        if (status == OperationStatus.InvalidData)
        {
            return FailRecord(error, MigrationRules.BadConfiguration);
        }

        if (status == OperationStatus.Done)
        {
            visitor.OnConfiguration(Info(RecordKind.Configuration, rest.Slice(0, consumed)), configuration.Name);
            _phase = Phase.ConfigurationSubsections;
        }

        return status;
    }

    private OperationStatus ReadConfigurationSubsection<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        if (rest[0] != (byte)VmSectionType.Subsection)
        {
            _phase = Phase.TopLevel;
            return OperationStatus.Done;
        }

        var status = SubsectionHeader.TryRead(rest, out var header, out var headerLength, out var error);
        if (status != OperationStatus.Done)
        {
            return status == OperationStatus.InvalidData ? FailRecord(error, MigrationRules.BadConfiguration) : status;
        }

        var body = rest.Slice(headerLength);
        int bodyLength;
        WireError bodyError;
        var name = header.Name;
        if (name.SequenceEqual("configuration/target-page-bits"u8))
        {
            status = ConfigTargetPageBits.TryRead(body, out var bits, out bodyLength, out bodyError);
            if (status == OperationStatus.Done)
            {
                if (bits.TargetPageBits is < 10 or > 24)
                {
                    return Fail(MigrationRules.BadConfiguration, "config_target_page_bits", $"target page bits {bits.TargetPageBits} is not a page size", headerLength);
                }

                _pageSize = 1 << (int)bits.TargetPageBits;
            }
        }
        else if (name.SequenceEqual("configuration/capabilities"u8))
        {
            status = ConfigCapabilities.TryRead(body, out var capabilities, out bodyLength, out bodyError);
            if (status == OperationStatus.Done)
            {
                foreach (var capability in capabilities.Caps)
                {
                    var text = System.Text.Encoding.ASCII.GetString(capability.Name);
                    _capabilities.Add(text);
                    _hasMrAddr |= text == "x-ignore-shared";
                    _mappedRam |= text == "mapped-ram";
                }
            }
        }
        else if (name.SequenceEqual("configuration/uuid"u8))
        {
            status = ConfigUuid.TryRead(body, out _, out bodyLength, out bodyError);
        }
        else
        {
            return Fail(MigrationRules.BadConfiguration, "subsection_header",
                $"unknown configuration subsection '{System.Text.Encoding.ASCII.GetString(name)}' (QEMU rejects it too)");
        }

        if (status == OperationStatus.InvalidData)
        {
            return Fail(MigrationRules.BadConfiguration, bodyError.Record, $"{bodyError.Record}.{bodyError.Field}: {bodyError.Rule}", headerLength + bodyError.Offset);
        }

        if (status == OperationStatus.NeedMoreData)
        {
            return status;
        }

        consumed = headerLength + bodyLength;
        visitor.OnConfigurationSubsection(Info(RecordKind.ConfigurationSubsection, rest.Slice(0, consumed)), name, header.VersionId, body.Slice(0, bodyLength));
        return OperationStatus.Done;
    }
}
