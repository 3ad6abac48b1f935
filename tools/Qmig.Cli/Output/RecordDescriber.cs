using System.Buffers;
using System.Text;
using Qmig.Wire;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Output;

/// <summary>Turns what the stream reader hands over into named fields, with QEMU's constant names.</summary>
internal static class RecordDescriber
{
    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);

    /// <summary>RAM_SAVE_FLAG names without the prefix, lowest bit first (ZERO, CONTINUE, ...).</summary>
    public static List<string> RamFlagNames(ulong flags)
    {
        var names = new List<string>();
        for (var bit = 1UL; bit <= 0x200; bit <<= 1)
        {
            if ((flags & bit) != 0)
            {
                names.Add(FlagName((RamSaveFlag)bit));
            }
        }

        return names;
    }

    public static string FlagName(RamSaveFlag flag) => flag.ToQemuName()?.Replace("RAM_SAVE_FLAG_", "") ?? $"0x{(ulong)flag:x}";

    public static string CommandName(MigCmd cmd) => cmd.ToQemuName()?.Replace("MIG_CMD_", "") ?? $"0x{(ushort)cmd:x}";

    public static void DescribeRam(RecordFields fields, in RamRecord ram, RamBlock? block)
    {
        fields.Add("flags", RamFlagNames((ulong)ram.Flags));
        if (ram.IsZero || ram.IsPage || ram.IsXbzrle || ram.IsCompress)
        {
            fields.Add("block", block?.Name ?? "?").Add("offset", new Hex(ram.Offset));
        }
        else if (((ulong)ram.Flags & (ulong)RamSaveFlag.MemSize) != 0)
        {
            fields.Add("total", new Hex(ram.Offset));
        }

        if (ram.IsZero)
        {
            fields.Add("fill", new Hex(ram.Fill));
        }
        else if (ram.IsXbzrle)
        {
            fields.Add("xbzrle_length", (int)ram.LenXbzrle);
        }
        else if (ram.IsCompress)
        {
            fields.Add("compressed_length", ram.LenCompressed);
        }
    }

    public static void DescribeCommand(RecordFields fields, in Command command)
    {
        fields.Add("cmd", CommandName(command.Cmd)).Add("len", (int)command.LenPayload);
        switch (command.Cmd)
        {
            case MigCmd.Ping when command.TryReadPayloadAsPing(out var ping, out _, out _) == OperationStatus.Done:
                fields.Add("value", new Hex(ping.Value));
                break;
            case MigCmd.PostcopyAdvise when command.LenPayload == 16 && command.TryReadPayloadAsPostcopyAdvise(out var advise, out _, out _) == OperationStatus.Done:
                fields.Add("host_page_sizes", new Hex(advise.HostPageSizes)).Add("target_page_size", new Hex(advise.TargetPageSize));
                break;
            case MigCmd.PostcopyRamDiscard when command.TryReadPayloadAsPostcopyRamDiscard(out var discard, out _, out _) == OperationStatus.Done:
                var ranges = new List<object>();
                foreach (var range in discard.Ranges)
                {
                    ranges.Add(new List<KeyValuePair<string, object>> { new("start", new Hex(range.Start)), new("length", new Hex(range.Length)) });
                }

                fields.Add("block", Text(discard.BlockName)).Add("ranges", ranges);
                break;
            case MigCmd.Packaged when command.TryReadPayloadAsPackaged(out var packaged, out _, out _) == OperationStatus.Done:
                fields.Add("package_length", packaged.LenPackage);
                break;
            case MigCmd.RecvBitmap when command.TryReadPayloadAsRecvBitmap(out var bitmap, out _, out _) == OperationStatus.Done:
                fields.Add("block", Text(bitmap.BlockName));
                break;
        }
    }

    public static void DescribeSubsection(RecordFields fields, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
    {
        fields.Add("name", Text(name)).Add("version", version);
        if (name.SequenceEqual("configuration/target-page-bits"u8) && ConfigTargetPageBits.TryRead(body, out var bits, out _) == OperationStatus.Done)
        {
            fields.Add("target_page_bits", bits.TargetPageBits);
        }
        else if (name.SequenceEqual("configuration/capabilities"u8) && ConfigCapabilities.TryRead(body, out var caps, out _) == OperationStatus.Done)
        {
            var names = new List<string>();
            foreach (var cap in caps.Caps)
            {
                names.Add(Text(cap.Name));
            }

            fields.Add("capabilities", names);
        }
        else if (name.SequenceEqual("configuration/uuid"u8))
        {
            fields.Add("uuid", new Guid(body, bigEndian: true).ToString());
        }
    }
}
