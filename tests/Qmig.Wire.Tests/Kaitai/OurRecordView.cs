using System.Buffers;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Qmig.Wire.Tests.Kaitai;

/// <summary>What one of our readers made of the bytes at an offset, in oracle.js's result format.</summary>
/// <param name="Ok">The reader returned Done.</param>
/// <param name="Consumed">Bytes read (0 unless Ok).</param>
/// <param name="Fields">Every field that was read, keyed by its .ksy id (null unless Ok).</param>
/// <param name="Error">Why the reader did not return Done.</param>
public sealed record OurParse(bool Ok, long Consumed, JsonObject? Fields, string? Error);

/// <summary>
/// Our generated readers seen the way tests/kaitai/oracle.js reports the Kaitai compiler's parse:
/// every seq attribute that was read (absent when its <c>if</c> is false, which we take from the
/// generated IsXxxPresent) in .ksy ids, then every instance; u8/s8 as decimal strings, other
/// integers as numbers, byte arrays and <c>contents</c> as lowercase hex, enums as numbers, nested
/// records as objects, repeats as arrays, a switch payload as its case's fields or, with no case,
/// as hex. Every spec type is here, so that hand-made records of every type can be compared too.
/// </summary>
public static class OurRecordView
{
    /// <summary>Reads a record of the .ksy type <paramref name="ksyType"/> ("meta_id::type_id") with the oracle's arguments.</summary>
    public static OurParse Parse(string ksyType, IReadOnlyList<JsonNode?> args, ReadOnlySpan<byte> source)
    {
        JsonObject f;
        OperationStatus status;
        int consumed;
        WireError error;
        switch (ksyType)
        {
            case "migration_stream::file_header":
                status = FileHeader.TryRead(source, out var fileHeader, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["magic"] = "5145564d", ["version"] = fileHeader.Version } : [];
                break;
            case "migration_stream::configuration":
                status = Configuration.TryRead(source, out var configuration, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["section_type"] = "07", ["len_name"] = configuration.LenName, ["name"] = Hex(configuration.Name) } : [];
                break;
            case "migration_stream::subsection_header":
                status = SubsectionHeader.TryRead(source, out var subsection, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["section_type"] = "05", ["len_name"] = subsection.LenName, ["name"] = Hex(subsection.Name), ["version_id"] = subsection.VersionId } : [];
                break;
            case "migration_stream::config_target_page_bits":
                status = ConfigTargetPageBits.TryRead(source, out var pageBits, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["target_page_bits"] = pageBits.TargetPageBits } : [];
                break;
            case "migration_stream::config_capabilities":
                status = ConfigCapabilities.TryRead(source, out var capabilities, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(capabilities) : [];
                break;
            case "migration_stream::capability_name":
                status = CapabilityName.TryRead(source, out var capability, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(capability) : [];
                break;
            case "migration_stream::config_uuid":
                status = ConfigUuid.TryRead(source, out var uuid, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["uuid"] = Hex(uuid.Uuid) } : [];
                break;
            case "migration_stream::section_header_start_full":
                status = SectionHeaderStartFull.TryRead(source, out var startFull, out consumed, out error);
                f = status == OperationStatus.Done
                    ? new JsonObject
                    {
                        ["section_type"] = (byte)startFull.SectionType,
                        ["section_id"] = startFull.SectionId,
                        ["len_idstr"] = startFull.LenIdstr,
                        ["idstr"] = Hex(startFull.Idstr),
                        ["instance_id"] = startFull.InstanceId,
                        ["version_id"] = startFull.VersionId,
                    }
                    : [];
                break;
            case "migration_stream::section_header_part_end":
                status = SectionHeaderPartEnd.TryRead(source, out var partEnd, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["section_type"] = (byte)partEnd.SectionType, ["section_id"] = partEnd.SectionId } : [];
                break;
            case "migration_stream::section_footer":
                status = SectionFooter.TryRead(source, out var footer, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["section_type"] = "7e", ["section_id"] = footer.SectionId } : [];
                break;
            case "migration_stream::end_of_sections":
                status = EndOfSections.TryRead(source, out _, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["section_type"] = "00" } : [];
                break;
            case "migration_stream::vm_description":
                status = VmDescription.TryRead(source, out var vmdesc, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["section_type"] = "06", ["len_json"] = vmdesc.LenJson, ["json"] = Hex(vmdesc.Json) } : [];
                break;

            case "migration_command::command":
                status = Command.TryRead(source, out var command, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(command) : [];
                break;
            case "migration_command::ping":
                status = Ping.TryRead(source, out var ping, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["value"] = ping.Value } : [];
                break;
            case "migration_command::postcopy_advise":
                status = PostcopyAdvise.TryRead(source, checked((ushort)OracleComparison.Integer(args[0])), out var advise, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(advise) : [];
                break;
            case "migration_command::postcopy_ram_discard":
                status = PostcopyRamDiscard.TryRead(source, out var discard, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(discard) : [];
                break;
            case "migration_command::discard_range":
                status = DiscardRange.TryRead(source, out var range, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(range) : [];
                break;
            case "migration_command::packaged":
                status = Packaged.TryRead(source, out var packaged, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["len_package"] = packaged.LenPackage } : [];
                break;
            case "migration_command::recv_bitmap":
                status = RecvBitmap.TryRead(source, out var recvBitmap, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(recvBitmap) : [];
                break;

            case "ram_section::ram_record":
                status = RamRecord.TryRead(source, checked((uint)OracleComparison.Integer(args[0])), out var ram, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(ram) : [];
                break;
            case "ram_section::ram_block_entry":
                status = RamBlockEntry.TryRead(source, (bool)args[0]!, (bool)args[1]!, out var block, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(block) : [];
                break;
            case "ram_section::mapped_ram_header":
                status = MappedRamHeader.TryRead(source, out var mapped, out consumed, out error);
                f = status == OperationStatus.Done
                    ? new JsonObject { ["version"] = mapped.Version, ["page_size"] = U64(mapped.PageSize), ["bitmap_offset"] = U64(mapped.BitmapOffset), ["pages_offset"] = U64(mapped.PagesOffset) }
                    : [];
                break;

            case "return_path::rp_message":
                status = RpMessage.TryRead(source, out var message, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(message) : [];
                break;
            case "return_path::shut":
                status = Shut.TryRead(source, out var shut, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["status"] = shut.Status } : [];
                break;
            case "return_path::pong":
                status = Pong.TryRead(source, out var pong, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["value"] = pong.Value } : [];
                break;
            case "return_path::req_pages_id":
                status = ReqPagesId.TryRead(source, out var reqPagesId, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(reqPagesId) : [];
                break;
            case "return_path::req_pages":
                status = ReqPages.TryRead(source, out var reqPages, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["start"] = U64(reqPages.Start), ["length"] = reqPages.Length } : [];
                break;
            case "return_path::rp_recv_bitmap":
                status = RpRecvBitmap.TryRead(source, out var rpRecvBitmap, out consumed, out error);
                f = status == OperationStatus.Done ? Fields(rpRecvBitmap) : [];
                break;
            case "return_path::resume_ack":
                status = ResumeAck.TryRead(source, out var resumeAck, out consumed, out error);
                f = status == OperationStatus.Done ? new JsonObject { ["value"] = resumeAck.Value } : [];
                break;
            case "return_path::recv_bitmap_blob":
                status = RecvBitmapBlob.TryRead(source, out var blob, out consumed, out error);
                f = status == OperationStatus.Done
                    ? new JsonObject { ["len_bitmap"] = U64(blob.LenBitmap), ["bitmap"] = Hex(blob.Bitmap), ["end_marker"] = U64(blob.EndMarker) }
                    : [];
                break;
            default:
                throw new ArgumentException($"No reader for the .ksy type '{ksyType}'", nameof(ksyType));
        }

        return status == OperationStatus.Done
            ? new OurParse(true, consumed, f, null)
            : new OurParse(false, 0, null, $"{status}: {error}");
    }

    private static JsonObject Fields(ConfigCapabilities value)
    {
        var caps = new JsonArray();
        foreach (var cap in value.Caps)
        {
            caps.Add(Fields(cap));
        }

        return new JsonObject { ["num_caps"] = value.NumCaps, ["caps"] = caps };
    }

    private static JsonObject Fields(CapabilityName value) => new() { ["len_name"] = value.LenName, ["name"] = Hex(value.Name) };

    private static JsonObject Fields(Command value)
    {
        JsonNode? payload = value.Cmd switch
        {
            MigCmd.Ping => Case(value.TryReadPayloadAsPing(out var p, out _, out _), () => new JsonObject { ["value"] = p.Value }),
            MigCmd.PostcopyAdvise => value.TryReadPayloadAsPostcopyAdvise(out var a, out _, out _) == OperationStatus.Done ? Fields(a) : null,
            MigCmd.PostcopyRamDiscard => value.TryReadPayloadAsPostcopyRamDiscard(out var d, out _, out _) == OperationStatus.Done ? Fields(d) : null,
            MigCmd.Packaged => Case(value.TryReadPayloadAsPackaged(out var k, out _, out _), () => new JsonObject { ["len_package"] = k.LenPackage }),
            MigCmd.RecvBitmap => value.TryReadPayloadAsRecvBitmap(out var r, out _, out _) == OperationStatus.Done ? Fields(r) : null,
            _ => Hex(value.Payload),
        };
        return new JsonObject
        {
            ["section_type"] = "08",
            ["cmd"] = (ushort)value.Cmd,
            ["len_payload"] = value.LenPayload,
            ["payload"] = payload ?? throw new InvalidOperationException("Command.TryRead accepted a payload that its case reader rejects"),
        };
    }

    private static JsonObject Fields(PostcopyAdvise value)
    {
        var f = new JsonObject();
        if (value.IsHostPageSizesPresent)
        {
            f["host_page_sizes"] = U64(value.HostPageSizes);
        }

        if (value.IsTargetPageSizePresent)
        {
            f["target_page_size"] = U64(value.TargetPageSize);
        }

        return f;
    }

    private static JsonObject Fields(PostcopyRamDiscard value)
    {
        var ranges = new JsonArray();
        foreach (var range in value.Ranges)
        {
            ranges.Add(Fields(range));
        }

        return new JsonObject
        {
            ["version"] = value.Version,
            ["len_block_name"] = value.LenBlockName,
            ["block_name"] = Hex(value.BlockName),
            ["terminator"] = "00",
            ["ranges"] = ranges,
        };
    }

    private static JsonObject Fields(DiscardRange value) => new() { ["start"] = U64(value.Start), ["length"] = U64(value.Length) };

    private static JsonObject Fields(RecvBitmap value) => new() { ["len_block_name"] = value.LenBlockName, ["block_name"] = Hex(value.BlockName) };

    private static JsonObject Fields(RamRecord value)
    {
        var f = new JsonObject { ["addr_flags"] = U64(value.AddrFlags) };
        if (value.IsLenBlockIdPresent)
        {
            f["len_block_id"] = value.LenBlockId;
        }

        if (value.IsBlockIdPresent)
        {
            f["block_id"] = Hex(value.BlockId);
        }

        if (value.IsFillPresent)
        {
            f["fill"] = value.Fill;
        }

        if (value.IsPagePresent)
        {
            f["page"] = Hex(value.Page);
        }

        if (value.IsXbzrleEncodingPresent)
        {
            f["xbzrle_encoding"] = value.XbzrleEncoding;
        }

        if (value.IsLenXbzrlePresent)
        {
            f["len_xbzrle"] = value.LenXbzrle;
        }

        if (value.IsXbzrleDataPresent)
        {
            f["xbzrle_data"] = Hex(value.XbzrleData);
        }

        if (value.IsLenCompressedPresent)
        {
            f["len_compressed"] = value.LenCompressed;
        }

        if (value.IsCompressedPresent)
        {
            f["compressed"] = Hex(value.Compressed);
        }

        // Instances: the oracle reports them as computed by the compiler's JavaScript (numbers, not decimal strings).
        f["flags"] = (ulong)value.Flags;
        f["offset"] = value.Offset;
        f["is_continue"] = value.IsContinue;
        f["is_zero"] = value.IsZero;
        f["is_page"] = value.IsPage;
        f["is_xbzrle"] = value.IsXbzrle;
        f["is_compress"] = value.IsCompress;
        f["has_block_id"] = value.HasBlockId;
        return f;
    }

    private static JsonObject Fields(RamBlockEntry value)
    {
        var f = new JsonObject { ["len_idstr"] = value.LenIdstr, ["idstr"] = Hex(value.Idstr), ["used_length"] = U64(value.UsedLength) };
        if (value.IsPageSizePresent)
        {
            f["page_size"] = U64(value.PageSize);
        }

        if (value.IsMrAddrPresent)
        {
            f["mr_addr"] = U64(value.MrAddr);
        }

        return f;
    }

    private static JsonObject Fields(RpMessage value)
    {
        JsonNode? payload = value.MsgType switch
        {
            MigRpMsg.Shut => Case(value.TryReadPayloadAsShut(out var s, out _, out _), () => new JsonObject { ["status"] = s.Status }),
            MigRpMsg.Pong => Case(value.TryReadPayloadAsPong(out var p, out _, out _), () => new JsonObject { ["value"] = p.Value }),
            MigRpMsg.ReqPagesId => value.TryReadPayloadAsReqPagesId(out var i, out _, out _) == OperationStatus.Done ? Fields(i) : null,
            MigRpMsg.ReqPages => Case(value.TryReadPayloadAsReqPages(out var r, out _, out _), () => new JsonObject { ["start"] = U64(r.Start), ["length"] = r.Length }),
            MigRpMsg.RecvBitmap => value.TryReadPayloadAsRpRecvBitmap(out var b, out _, out _) == OperationStatus.Done ? Fields(b) : null,
            MigRpMsg.ResumeAck => Case(value.TryReadPayloadAsResumeAck(out var a, out _, out _), () => new JsonObject { ["value"] = a.Value }),
            _ => Hex(value.Payload),
        };
        return new JsonObject
        {
            ["msg_type"] = (ushort)value.MsgType,
            ["len_payload"] = value.LenPayload,
            ["payload"] = payload ?? throw new InvalidOperationException("RpMessage.TryRead accepted a payload that its case reader rejects"),
        };
    }

    private static JsonObject Fields(ReqPagesId value) =>
        new() { ["start"] = U64(value.Start), ["length"] = value.Length, ["len_block_name"] = value.LenBlockName, ["block_name"] = Hex(value.BlockName) };

    private static JsonObject Fields(RpRecvBitmap value) => new() { ["len_block_name"] = value.LenBlockName, ["block_name"] = Hex(value.BlockName) };

    private static JsonObject? Case(OperationStatus status, Func<JsonObject> fields) => status == OperationStatus.Done ? fields() : null;

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static string U64(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
