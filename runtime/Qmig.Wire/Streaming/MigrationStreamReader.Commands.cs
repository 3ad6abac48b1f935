using System.Buffers;
using Qmig.Wire.Machines;

namespace Qmig.Wire.Streaming;

public sealed partial class MigrationStreamReader
{
    private PostcopyMachine.State _postcopy = PostcopyMachine.Initial;
    private ulong? _advisedPageSizes;

    /// <summary>RAM sections are read in postcopy mode from LISTEN on (only PAGE, ZERO, EOS).</summary>
    private bool InPostcopyMode => _postcopy is PostcopyMachine.State.Listening or PostcopyMachine.State.Running;

    /// <summary>The postcopy state the commands so far put a destination in (QEMU's name).</summary>
    public string PostcopyState => PostcopyMachine.GetQemuName(_postcopy);

    private OperationStatus ReadCommand<TVisitor>(ReadOnlySpan<byte> rest, ref TVisitor visitor, out int consumed)
        where TVisitor : IMigrationVisitor, allows ref struct
    {
        var status = Command.TryRead(rest, out var command, out consumed, out var error);
        if (status != OperationStatus.Done)
        {
            if (status == OperationStatus.InvalidData && error.Field == "payload" || error.Record != Command.RecordName)
            {
                return status == OperationStatus.InvalidData ? Fail(MigrationRules.CommandLength, error.Record,
                    $"{CommandName(rest)}: {error.Record}.{error.Field}: {error.Rule}", error.Offset) : status;
            }

            return status == OperationStatus.InvalidData ? FailRecord(error) : status;
        }

        var cmd = command.Cmd;
        if (cmd == MigCmd.Invalid || !cmd.IsDefined())
        {
            return Fail(MigrationRules.UnknownCommand, "command", $"command number {(ushort)cmd} is not a MIG_CMD (1..11)", 1);
        }

        var length = command.LenPayload;
        var lengthOk = cmd switch
        {
            MigCmd.OpenReturnPath or MigCmd.PostcopyListen or MigCmd.PostcopyRun or MigCmd.EnableColo
                or MigCmd.PostcopyResume or MigCmd.SwitchoverStart => length == 0,
            MigCmd.Ping or MigCmd.Packaged => length == 4,
            MigCmd.PostcopyAdvise => length is 0 or 16,
            MigCmd.PostcopyRamDiscard => length >= 20,
            _ => true,
        };
        if (!lengthOk)
        {
            return Fail(MigrationRules.CommandLength, "command", $"{cmd.ToQemuName()} with a {length}-byte payload", 3);
        }

        var stateStatus = ApplyCommand(command, consumed);
        if (stateStatus != OperationStatus.Done)
        {
            return stateStatus;
        }

        visitor.OnCommand(Info(RecordKind.Command, rest.Slice(0, consumed)), command);
        return OperationStatus.Done;
    }

    private static string CommandName(ReadOnlySpan<byte> rest) =>
        rest.Length >= 3 ? ((MigCmd)System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(rest.Slice(1))).ToQemuName() ?? "command" : "command";

    /// <summary>
    /// What a command does to the reader's state. The postcopy commands must be legal moves of the
    /// generated <see cref="PostcopyMachine"/> (spec/machines/postcopy.fsm.yaml), so LISTEN before
    /// ADVISE is refused with both names; PACKAGED opens a nested sub-stream.
    /// </summary>
    private OperationStatus ApplyCommand(in Command command, int consumed)
    {
        PostcopyMachine.Trigger? trigger = command.Cmd switch
        {
            MigCmd.PostcopyAdvise => PostcopyMachine.Trigger.Advise,
            MigCmd.PostcopyRamDiscard => PostcopyMachine.Trigger.RamDiscard,
            MigCmd.PostcopyListen => PostcopyMachine.Trigger.Listen,
            MigCmd.PostcopyRun => PostcopyMachine.Trigger.Run,
            _ => null,
        };
        if (trigger is PostcopyMachine.Trigger move)
        {
            var before = _postcopy;
            if (!PostcopyMachine.TryFire(ref _postcopy, move))
            {
                return Fail(MigrationRules.CommandState, "command",
                    $"{command.Cmd.ToQemuName()} is not allowed in postcopy state {PostcopyMachine.GetQemuName(before)} (spec/machines/postcopy.fsm.yaml)");
            }
        }

        switch (command.Cmd)
        {
            case MigCmd.PostcopyAdvise:
                if (command.LenPayload == 16 && command.TryReadPayloadAsPostcopyAdvise(out var advise, out _, out _) == OperationStatus.Done)
                {
                    // QEMU refuses postcopy when the source's target page differs from its own
                    // (loadvm_postcopy_handle_advise): every placement would be misaligned.
                    if (advise.TargetPageSize != (ulong)_pageSize)
                    {
                        return Fail(MigrationRules.AdvisePageSize, "postcopy_advise",
                            $"POSTCOPY_ADVISE target page size {advise.TargetPageSize} differs from the stream's {_pageSize}", 13);
                    }

                    _advisedPageSizes = advise.HostPageSizes;
                }

                return OperationStatus.Done;
            case MigCmd.PostcopyRamDiscard:
                return CheckDiscard(command);
            case MigCmd.Packaged:
                command.TryReadPayloadAsPackaged(out var packaged, out _, out _);
                if (packaged.LenPackage > _options.MaxPackagedSize)
                {
                    return Fail(MigrationRules.PackageSize, "packaged", $"PACKAGED of {packaged.LenPackage} bytes is over the cap of {_options.MaxPackagedSize}", 5);
                }

                if (_depth >= _packageEnds.Length)
                {
                    return Fail(MigrationRules.PackageNesting, "packaged", $"PACKAGED nested deeper than {_packageEnds.Length}");
                }

                if (_depth > 0 && _position + consumed + packaged.LenPackage > _packageEnds[_depth - 1])
                {
                    return Fail(MigrationRules.PackageNesting, "packaged", "a nested PACKAGED runs past the end of its parent");
                }

                _packageEnds[_depth++] = _position + consumed + packaged.LenPackage;
                return OperationStatus.Done;
            default:
                return OperationStatus.Done;
        }
    }

    /// <summary>Discard ranges are checked before anything would act on them (QEMU clears bits first, then checks).</summary>
    private OperationStatus CheckDiscard(in Command command)
    {
        command.TryReadPayloadAsPostcopyRamDiscard(out var discard, out _, out _);
        var block = FindBlock(discard.BlockName);
        if (block is null)
        {
            return Fail(MigrationRules.DiscardRange, "postcopy_ram_discard",
                $"discard for unknown block '{System.Text.Encoding.ASCII.GetString(discard.BlockName)}'", 7);
        }

        if (discard.BlockName.IndexOf((byte)0) >= 0)
        {
            return Fail(MigrationRules.DiscardRange, "postcopy_ram_discard", "the block name has an embedded NUL", 7);
        }

        var pageSize = block.PageSize ?? (ulong)_pageSize;
        foreach (var range in discard.Ranges)
        {
            if (range.Start % pageSize != 0 || range.Length % pageSize != 0 || range.Start > block.UsedLength || range.Length > block.UsedLength - range.Start)
            {
                return Fail(MigrationRules.DiscardRange, "postcopy_ram_discard",
                    $"discard range 0x{range.Start:x}+0x{range.Length:x} is not inside block {block} on {pageSize}-byte pages");
            }
        }

        return OperationStatus.Done;
    }
}
