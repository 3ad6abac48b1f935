using Qmig.Linux;
using Qmig.Linux.Memory;
using Qmig.Wire;
using Qmig.Wire.Machines;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

public sealed partial class PostcopyDestination
{
    /// <summary>Hands the reader's records to the destination; every rule it enforces lives there.</summary>
    private sealed class Visitor(PostcopyDestination destination) : IMigrationVisitor
    {
        public void OnFileHeader(in RecordInfo record, uint version)
        {
        }

        public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName) =>
            destination._configurationRecords.Add(record.Raw.ToArray());

        public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body) =>
            destination._configurationRecords.Add(record.Raw.ToArray());

        public void OnSectionHeader(in RecordInfo record, SectionInfo section) => destination.OnSection(record, section);

        public void OnRamBlock(in RecordInfo record, RamBlock block) => destination.OnRamBlock(block);

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block) => destination._placer.PlaceMain(record, ram, block, destination.Postcopy);

        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header) =>
            throw destination.Lost("mapped-ram is a file format; a socket migration does not use it");

        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
        {
        }

        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
        {
        }

        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body) =>
            destination._devices.Add(new ReceivedDevice(section, body.ToArray()));

        public void OnSectionFooter(in RecordInfo record, SectionInfo section)
        {
        }

        public void OnCommand(in RecordInfo record, in Command command) => destination.OnCommand(record, command);

        public void OnEndOfSections(in RecordInfo record) => destination._endOfSections = true;

        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
        {
        }
    }

    private void OnSection(in RecordInfo record, SectionInfo section)
    {
        if (section.IsRam)
        {
            _ramSection ??= section;
            return;
        }

        if (record.Kind != RecordKind.SectionFull)
        {
            // Iterable devices other than RAM (block migration, dirty bitmaps) would need their own loaders.
            throw Lost($"the iterable device section {section} ({record.Kind}) is not supported; only RAM may iterate");
        }
    }

    private void OnRamBlock(RamBlock block)
    {
        if (block.MrAddr is not null)
        {
            throw Lost($"RAM block {block} carries a region address (x-ignore-shared), which is not supported");
        }

        // QEMU lists a block's page size only when it differs from the host's: a hugetlbfs-backed
        // block, which gets huge pages here too (the kernel's pool must have them).
        var pageSize = block.PageSize ?? (ulong)Environment.SystemPageSize;
        var hugePages = pageSize != (ulong)Environment.SystemPageSize;
        if (hugePages && pageSize is not ((ulong)2 << 20 or (ulong)1 << 30))
        {
            throw Lost($"RAM block {block} uses {pageSize}-byte pages; supported are the host page size and 2 MiB or 1 GiB huge pages");
        }

        if (block.Index != _blocks.Count)
        {
            throw Lost($"RAM block {block} is announced a second time");
        }

        if (block.UsedLength % pageSize != 0)
        {
            // QEMU sizes a huge-page block in whole huge pages; a stream that does not cannot be placed.
            throw Lost($"RAM block {block} is 0x{block.UsedLength:x} bytes, not a whole number of its {pageSize}-byte pages");
        }

        RamBlockMemory memory;
        try
        {
            memory = _memory.ProvideBlock(block.Name, block.UsedLength, (int)pageSize);
        }
        catch (UserfaultfdException e) when (hugePages)
        {
            throw Lost($"RAM block {block} needs {block.UsedLength / pageSize} huge pages of {pageSize >> 20} MiB: {e.Message}", e);
        }

        if (memory.Length != block.UsedLength || memory.PageSize != (int)pageSize || memory.Memfd is null)
        {
            throw Lost($"the memory provided for RAM block {block} is 0x{memory.Length:x} bytes of {memory.PageSize}-byte pages{(memory.Memfd is null ? ", not memfd-backed" : "")}; it must be 0x{block.UsedLength:x} bytes of {pageSize}-byte pages, memfd-backed");
        }

        _blocks.Add(block, memory);
    }

    private void OnCommand(in RecordInfo record, in Command command)
    {
        switch (command.Cmd)
        {
            case MigCmd.OpenReturnPath:
                _returnPathOpen = true;
                break;
            case MigCmd.Ping:
                command.TryReadPayloadAsPing(out var ping, out _, out _);
                if (!_returnPathOpen)
                {
                    throw Lost($"PING {ping.Value} arrived before OPEN_RETURN_PATH: there is nowhere to answer");
                }

                _sender!.Pong(ping.Value);
                break;
            case MigCmd.PostcopyAdvise:
                Move(PostcopyMachine.Trigger.Advise, "POSTCOPY_ADVISE");
                if (command.TryReadPayloadAsPostcopyAdvise(out var advise, out _, out _) == System.Buffers.OperationStatus.Done &&
                    command.Payload.Length == 16 && advise.TargetPageSize != (ulong)Environment.SystemPageSize)
                {
                    throw Lost($"the source's target pages are {advise.TargetPageSize} bytes; this destination places {Environment.SystemPageSize}-byte pages");
                }

                break;
            case MigCmd.PostcopyRamDiscard:
                Move(PostcopyMachine.Trigger.RamDiscard, "POSTCOPY_RAM_DISCARD");
                Discard(command);
                break;
            case MigCmd.PostcopyListen:
                Move(PostcopyMachine.Trigger.Listen, "POSTCOPY_LISTEN");
                MoveStatus(MigrationStatusDestinationMachine.Trigger.Listen, "POSTCOPY_LISTEN");
                _faults.Start(_sender!, _stop.Token);
                _preempt.Listening(_reader!.PreemptChannelOptions());
                break;
            case MigCmd.PostcopyRun:
                Move(PostcopyMachine.Trigger.Run, "POSTCOPY_RUN");
                StartGuest();
                break;
            case MigCmd.RecvBitmap:
                AnswerRecvBitmap(record, command);
                break;
            case MigCmd.PostcopyResume:
                AnswerResume(record);
                break;
            case MigCmd.Packaged:
                // The reader opens the package as a nested stream; its LISTEN, devices and RUN follow.
                break;
            default:
                throw Lost($"{command.Cmd.ToQemuName()} at offset {record.Offset} is not supported by this destination");
        }
    }

    private void Discard(in Command command)
    {
        command.TryReadPayloadAsPostcopyRamDiscard(out var discard, out _, out _);
        var name = System.Text.Encoding.UTF8.GetString(discard.BlockName);
        var block = _blocks.FindByName(name)
            ?? throw Lost($"POSTCOPY_RAM_DISCARD names RAM block '{name}', which the block list did not announce");
        foreach (var range in discard.Ranges)
        {
            // The reader has checked every range against the block before this runs.
            var result = block.Discard(range.Start, range.Length);
            Stats.Discarded += result.Discarded;
        }
    }

    /// <summary>POSTCOPY_RUN: the guest runs here from now on; the caller's hook gets the device state and starts its vCPUs.</summary>
    private void StartGuest()
    {
        if (_options.OnPostcopyRun is not { } onRun)
        {
            return;
        }

        try
        {
            _guest = onRun(new PostcopyRun(_devices.ToArray(), _blocks.Memories, Stats));
        }
        catch (Exception e)
        {
            throw Lost($"the POSTCOPY_RUN handler failed: {e.Message}", e);
        }
    }

    /// <summary>RECV_BITMAP: which pages of the block are here, as the source rebuilds its dirty bitmap from it.</summary>
    private void AnswerRecvBitmap(in RecordInfo record, in Command command)
    {
        if (!InStatus(MigrationStatusDestinationMachine.State.PostcopyRecover))
        {
            throw Lost($"RECV_BITMAP at offset {record.Offset} outside a postcopy recovery (migration status {MigrationStatusDestinationMachine.GetQemuName(_status)})");
        }

        command.TryReadPayloadAsRecvBitmap(out var request, out _, out _);
        var name = System.Text.Encoding.UTF8.GetString(request.BlockName);
        var block = _blocks.FindByName(name)
            ?? throw Lost($"RECV_BITMAP asks for RAM block '{name}', which the block list did not announce");
        _sender!.RecvBitmap(block, Environment.SystemPageSize);
    }

    /// <summary>POSTCOPY_RESUME: acknowledge, then ask again for every page a vCPU (or request-ahead) still waits for.</summary>
    private void AnswerResume(in RecordInfo record)
    {
        MoveStatus(MigrationStatusDestinationMachine.Trigger.PostcopyResume, $"POSTCOPY_RESUME at offset {record.Offset}");
        _sender!.ResumeAck(1);
        _sender.ReleaseRequests();
        _logger.Resumed(_recovery.RequestAgain(_sender));
    }
}
