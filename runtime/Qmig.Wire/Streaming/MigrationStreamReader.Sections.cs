using System.Buffers;
using System.Buffers.Binary;

namespace Qmig.Wire.Streaming;

public sealed partial class MigrationStreamReader
{
    private Dictionary<uint, SectionInfo> _sections = new();
    private VmDescriptionDocument? _vmDescription;
    private SectionInfo? _current;
    private RecordKind _currentKind;
    private bool? _footers;
    private int _nextDevice;

    /// <summary>Sections seen so far, by id.</summary>
    public IReadOnlyDictionary<uint, SectionInfo> Sections => _sections;

    private OperationStatus ReadTopLevel<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        switch ((VmSectionType)rest[0])
        {
            case VmSectionType.SectionStart or VmSectionType.SectionFull:
                return ReadSectionStart(rest, ref visitor, out consumed);
            case VmSectionType.SectionPart or VmSectionType.SectionEnd:
                return ReadSectionPart(rest, ref visitor, out consumed);
            case VmSectionType.Command:
                return ReadCommand(rest, ref visitor, out consumed);
            case VmSectionType.Eof:
                if (_depth > 0)
                {
                    return Fail(MigrationRules.MisplacedRecord, "end_of_sections", "QEMU_VM_EOF inside a PACKAGED sub-stream (a package ends with POSTCOPY_RUN)");
                }

                consumed = 1;
                visitor.OnEndOfSections(Info(RecordKind.EndOfSections, rest.Slice(0, 1)));
                _phase = Phase.AfterEndOfSections;
                return OperationStatus.Done;
            case VmSectionType.Subsection or VmSectionType.Vmdescription or VmSectionType.Configuration or VmSectionType.SectionFooter:
                return Fail(MigrationRules.MisplacedRecord, "section list",
                    $"{((VmSectionType)rest[0]).ToQemuName()} (0x{rest[0]:x2}) is not allowed in the section list");
            default:
                return Fail(MigrationRules.UnknownRecordType, "section list", $"unknown record type 0x{rest[0]:x2}");
        }
    }

    private OperationStatus ReadSectionStart<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var status = SectionHeaderStartFull.TryRead(rest, out var header, out consumed, out var error);
        if (status != OperationStatus.Done)
        {
            return status == OperationStatus.InvalidData ? FailRecord(error) : status;
        }

        foreach (var c in header.Idstr)
        {
            if (c is < 0x20 or > 0x7e)
            {
                return Fail(MigrationRules.EmptyIdstr, "section_header_start_full", "the section idstr has a non-printable byte", 6);
            }
        }

        if (_sections.ContainsKey(header.SectionId))
        {
            return Fail(MigrationRules.DuplicateSection, "section_header_start_full", $"section id {header.SectionId} is started twice");
        }

        var isRam = header.Idstr.SequenceEqual("ram"u8);
        if (isRam && header.VersionId != 4)
        {
            return Fail(MigrationRules.BadRamVersion, "section_header_start_full", $"RAM section version {header.VersionId}, QEMU loads only 4");
        }

        var section = new SectionInfo(header.SectionId, System.Text.Encoding.ASCII.GetString(header.Idstr), header.InstanceId, header.VersionId, isRam);
        var kind = header.SectionType == VmSectionType.SectionFull ? RecordKind.SectionFull : RecordKind.SectionStart;
        if (kind == RecordKind.SectionFull && !isRam && _vmDescription is not null)
        {
            section.Description = MatchDevice(section);
        }

        _sections.Add(section.Id, section);
        visitor.OnSectionHeader(Info(kind, rest.Slice(0, consumed), section.Id), section);
        EnterBody(section, kind);
        return OperationStatus.Done;
    }

    /// <summary>The vmdesc lists FULL devices in stream order; match by (idstr, instance), falling back to order.</summary>
    private VmDescriptionDevice? MatchDevice(SectionInfo section)
    {
        var devices = _vmDescription!.Devices;
        for (var i = _nextDevice; i < devices.Count; i++)
        {
            if (devices[i].Name == section.Idstr && devices[i].InstanceId == section.InstanceId)
            {
                _nextDevice = i + 1;
                return devices[i];
            }
        }

        return _vmDescription.TryGetDevice(section.Idstr, section.InstanceId, out var device) ? device : null;
    }

    private OperationStatus ReadSectionPart<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var status = SectionHeaderPartEnd.TryRead(rest, out var header, out consumed, out var error);
        if (status != OperationStatus.Done)
        {
            return status == OperationStatus.InvalidData ? FailRecord(error) : status;
        }

        if (!_sections.TryGetValue(header.SectionId, out var section))
        {
            return Fail(MigrationRules.UnknownSection, "section_header_part_end", $"section id {header.SectionId} was never started", 1);
        }

        var kind = header.SectionType == VmSectionType.SectionEnd ? RecordKind.SectionEnd : RecordKind.SectionPart;
        visitor.OnSectionHeader(Info(kind, rest.Slice(0, consumed), section.Id), section);
        EnterBody(section, kind);
        return OperationStatus.Done;
    }

    private void EnterBody(SectionInfo section, RecordKind kind)
    {
        _current = section;
        _currentKind = kind;
        _phase = section.IsRam ? Phase.RamBody : Phase.DeviceBody;
    }

    /// <summary>
    /// A device body has no length on the wire. With a vmdesc its length is exact; without one the
    /// body runs to the first footer of its own section that is followed by a plausible record.
    /// </summary>
    private OperationStatus ReadDeviceBody<TVisitor>(ReadOnlySpan<byte> rest, bool atEnd, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        var section = _current!;
        int length;
        if (section.Description?.BodySize is long size && _currentKind == RecordKind.SectionFull)
        {
            if (size > _options.MaxDeviceBodySize)
            {
                return Fail(MigrationRules.RecordTooLarge, section.Idstr, $"the vmdesc gives device {section} a body of {size} bytes, over the cap of {_options.MaxDeviceBodySize}");
            }

            if (rest.Length < size)
            {
                return OperationStatus.NeedMoreData;
            }

            length = (int)size;
            if (_footers != false && rest.Length >= length + 5 && !IsFooterOf(rest.Slice(length), section.Id))
            {
                return Fail(MigrationRules.DeviceBodySize, section.Idstr,
                    $"device {section} does not end with its footer after the {size} bytes its vmdesc describes", length);
            }
        }
        else
        {
            if (_footers == false && _options.VmDescriptionError is { } undecodable)
            {
                Error = undecodable;
                return OperationStatus.InvalidData;
            }

            if (_footers == false)
            {
                return Fail(MigrationRules.Unsupported, section.Idstr,
                    $"the body of {section} cannot be delimited: the stream has no section footers and no vmdesc describes it (give one with --vmdesc)");
            }

            var found = FindFooter(rest, section.Id, atEnd, out length);
            if (found != OperationStatus.Done)
            {
                if (found == OperationStatus.NeedMoreData && rest.Length > _options.MaxDeviceBodySize)
                {
                    return Fail(MigrationRules.RecordTooLarge, section.Idstr, $"no footer for {section} within {_options.MaxDeviceBodySize} bytes");
                }

                return found;
            }
        }

        visitor.OnDeviceBody(Info(RecordKind.DeviceBody, rest.Slice(0, length), section.Id), section, rest.Slice(0, length));
        consumed = length;
        _phase = Phase.Footer;
        return OperationStatus.Done;
    }

    private static bool IsFooterOf(ReadOnlySpan<byte> bytes, uint sectionId) =>
        bytes.Length >= 5 && bytes[0] == (byte)VmSectionType.SectionFooter && BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(1)) == sectionId;

    private OperationStatus FindFooter(ReadOnlySpan<byte> rest, uint sectionId, bool atEnd, out int length)
    {
        Span<byte> pattern = stackalloc byte[5];
        pattern[0] = (byte)VmSectionType.SectionFooter;
        BinaryPrimitives.WriteUInt32BigEndian(pattern.Slice(1), sectionId);
        var from = 0;
        while (true)
        {
            var hit = rest.Slice(from).IndexOf(pattern);
            if (hit < 0)
            {
                length = 0;
                return OperationStatus.NeedMoreData;
            }

            var at = from + hit;
            var after = rest.Slice(at + 5);
            var plausible = PlausibleRecordStart(after, atEnd);
            if (plausible == OperationStatus.Done)
            {
                length = at;
                return OperationStatus.Done;
            }

            if (plausible == OperationStatus.NeedMoreData)
            {
                length = 0;
                return OperationStatus.NeedMoreData;
            }

            from = at + 1;
        }
    }

    /// <summary>Whether a top-level record could start here: the check that makes the footer scan safe.</summary>
    private OperationStatus PlausibleRecordStart(ReadOnlySpan<byte> after, bool atEnd)
    {
        if (after.IsEmpty)
        {
            return atEnd ? OperationStatus.Done : OperationStatus.NeedMoreData;
        }

        switch ((VmSectionType)after[0])
        {
            case VmSectionType.SectionStart or VmSectionType.SectionFull:
            {
                var status = SectionHeaderStartFull.TryRead(after, out var header, out _, out _);
                if (status != OperationStatus.Done)
                {
                    return status == OperationStatus.NeedMoreData && !atEnd ? status : OperationStatus.InvalidData;
                }

                foreach (var c in header.Idstr)
                {
                    if (c is < 0x20 or > 0x7e)
                    {
                        return OperationStatus.InvalidData;
                    }
                }

                return _sections.ContainsKey(header.SectionId) ? OperationStatus.InvalidData : OperationStatus.Done;
            }

            case VmSectionType.SectionPart or VmSectionType.SectionEnd:
                if (after.Length < 5)
                {
                    return atEnd ? OperationStatus.InvalidData : OperationStatus.NeedMoreData;
                }

                return _sections.ContainsKey(BinaryPrimitives.ReadUInt32BigEndian(after.Slice(1))) ? OperationStatus.Done : OperationStatus.InvalidData;
            case VmSectionType.Command:
            {
                var status = Command.TryRead(after, out var command, out _, out _);
                if (status == OperationStatus.NeedMoreData)
                {
                    return atEnd ? OperationStatus.InvalidData : status;
                }

                return status == OperationStatus.Done && command.Cmd.IsDefined() && command.Cmd != MigCmd.Invalid ? OperationStatus.Done : OperationStatus.InvalidData;
            }

            case VmSectionType.Eof:
                if (_depth > 0)
                {
                    return OperationStatus.InvalidData;
                }

                if (after.Length == 1)
                {
                    return atEnd ? OperationStatus.Done : OperationStatus.NeedMoreData;
                }

                return after[1] == (byte)VmSectionType.Vmdescription ? OperationStatus.Done : OperationStatus.InvalidData;
            default:
                return OperationStatus.InvalidData;
        }
    }

    private OperationStatus ReadFooter<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        var section = _current!;
        if (_footers == false)
        {
            _phase = Phase.TopLevel;
            return OperationStatus.Done;
        }

        if (_footers is null && rest[0] != (byte)VmSectionType.SectionFooter)
        {
            // The first section end shows whether this stream has footers (send-section-footer).
            _footers = false;
            _phase = Phase.TopLevel;
            return OperationStatus.Done;
        }

        var status = SectionFooter.TryRead(rest, out var footer, out consumed, out var error);
        if (status == OperationStatus.InvalidData)
        {
            return Fail(MigrationRules.FooterMismatch, "section_footer", $"missing section footer for {section}: found 0x{rest[0]:x2}");
        }

        if (status == OperationStatus.NeedMoreData)
        {
            return status;
        }

        if (footer.SectionId != section.Id)
        {
            return Fail(MigrationRules.FooterMismatch, "section_footer", $"the footer says section {footer.SectionId} but closes {section}", 1);
        }

        _footers = true;
        visitor.OnSectionFooter(Info(RecordKind.SectionFooter, rest.Slice(0, consumed), section.Id), section);
        _phase = Phase.TopLevel;
        _current = null;
        return OperationStatus.Done;
    }

    /// <summary>After EOF comes the vmdesc (precopy) or nothing (postcopy, suppressed vmdesc).</summary>
    private OperationStatus ReadAfterEndOfSections<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        consumed = 0;
        if (rest[0] != (byte)VmSectionType.Vmdescription)
        {
            return Fail(MigrationRules.TrailingBytes, "end_of_sections", $"0x{rest[0]:x2} follows QEMU_VM_EOF; only a QEMU_VM_VMDESCRIPTION may");
        }

        if (rest.Length >= 5 && BinaryPrimitives.ReadUInt32BigEndian(rest.Slice(1)) > (uint)_options.MaxVmDescriptionSize)
        {
            return Fail(MigrationRules.RecordTooLarge, "vm_description", $"vmdesc of {BinaryPrimitives.ReadUInt32BigEndian(rest.Slice(1))} bytes is over the cap of {_options.MaxVmDescriptionSize}", 1);
        }

        var status = VmDescription.TryRead(rest, out var description, out consumed, out var error);
        if (status != OperationStatus.Done)
        {
            return status == OperationStatus.InvalidData ? FailRecord(error) : status;
        }

        // The record is framed correctly; its JSON must also decode, or nothing can use it.
        if (VmDescriptionDocument.Validate(description.Json, _position + (consumed - description.Json.Length)) is { } undecodable)
        {
            consumed = 0;
            Error = undecodable;
            return OperationStatus.InvalidData;
        }

        visitor.OnVmDescription(Info(RecordKind.VmDescription, rest.Slice(0, consumed)), description.Json);
        _phase = Phase.Done;
        return OperationStatus.Done;
    }
}
