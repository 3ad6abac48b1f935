using System.Buffers;
using Qmig.Wire;
using Qmig.Wire.Machines;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Proxy;

/// <summary>Decodes one direction of one connection from the bytes the pump has just forwarded, into the <see cref="ProxyTally"/>.</summary>
internal abstract class ChannelDecoder
{
    /// <summary>Reads every complete record of <paramref name="buffer"/>, which passed at <paramref name="timestamp"/>, and slices off what it read.</summary>
    public abstract OperationStatus Decode(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, long timestamp);

    public abstract MigrationError? Error { get; }

    /// <summary>The offset of the next record in this connection's bytes.</summary>
    public abstract long Position { get; }

    /// <summary>The reader's offset of this connection's first byte: a resumed main connection reads on with the offsets of the last.</summary>
    public virtual long StartOffset => 0;

    /// <summary>Decoding stopped at an invalid record while the bytes went on being forwarded.</summary>
    public bool Abandoned { get; set; }

    /// <summary>The stream so far is a whole migration stream (checked after the input ended).</summary>
    public abstract bool IsCompleted { get; }
}

/// <summary>A main or preempt channel, source to destination, read with <see cref="MigrationStreamReader"/>.</summary>
internal sealed class StreamDecoder(MigrationStreamReader reader, ProxyTally tally, bool preempt, long startOffset) : ChannelDecoder
{
    public MigrationStreamReader Reader => reader;

    public override MigrationError? Error => reader.Error;

    /// <summary>The reader's offsets go on across a resumed connection; this connection's own offset starts at 0.</summary>
    public override long Position => reader.Position - startOffset;

    public override long StartOffset => startOffset;

    public override bool IsCompleted => reader.IsCompleted;

    public override OperationStatus Decode(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, long timestamp)
    {
        var visitor = new Visitor(tally, preempt, timestamp);
        return reader.Read(ref buffer, isFinalBlock, ref visitor);
    }

    private readonly struct Visitor(ProxyTally tally, bool preempt, long timestamp) : IMigrationVisitor
    {
        public void OnFileHeader(in RecordInfo record, uint version)
        {
        }

        public void OnConfiguration(in RecordInfo record, ReadOnlySpan<byte> machineName)
        {
        }

        public void OnConfigurationSubsection(in RecordInfo record, ReadOnlySpan<byte> name, uint version, ReadOnlySpan<byte> body)
        {
        }

        public void OnSectionHeader(in RecordInfo record, SectionInfo section) => tally.Rounds.OnSectionHeader(record, section);

        public void OnRamBlock(in RecordInfo record, RamBlock block)
        {
        }

        public void OnRamRecord(in RecordInfo record, in RamRecord ram, RamBlock? block)
        {
            if (!preempt)
            {
                // The preempt channel's records belong to no round; feeding them here would add them to the main stream's open one.
                tally.Rounds.OnRamRecord(record, ram);
            }

            if (block is not null && (ram.IsPage || ram.IsZero))
            {
                tally.OnPage(ram, block, preempt, timestamp);
            }
            else if (ram.IsXbzrle)
            {
                tally.XbzrlePages++;
            }
            else if (ram.IsCompress)
            {
                tally.CompressedPages++;
            }
        }

        public void OnMappedRamHeader(in RecordInfo record, RamBlock block, in MappedRamHeader header)
        {
        }

        public void OnMappedRamBitmap(in RecordInfo record, RamBlock block, ReadOnlySpan<byte> bitmap)
        {
        }

        public void OnRamPages(in RecordInfo record, RamBlock block, ulong offset, ReadOnlySpan<byte> pages)
        {
        }

        public void OnDeviceBody(in RecordInfo record, SectionInfo section, ReadOnlySpan<byte> body)
        {
        }

        public void OnSectionFooter(in RecordInfo record, SectionInfo section)
        {
        }

        public void OnCommand(in RecordInfo record, in Command command)
        {
            tally.Rounds.OnCommand(command);
            var name = command.Cmd.ToQemuName()?.Replace("MIG_CMD_", "", StringComparison.Ordinal) ?? $"0x{(ushort)command.Cmd:x}";
            tally.Commands[name] = tally.Commands.GetValueOrDefault(name) + 1;
            var trigger = command.Cmd switch
            {
                MigCmd.PostcopyAdvise => PostcopyMachine.Trigger.Advise,
                MigCmd.PostcopyRamDiscard => PostcopyMachine.Trigger.RamDiscard,
                MigCmd.PostcopyListen => PostcopyMachine.Trigger.Listen,
                MigCmd.PostcopyRun => PostcopyMachine.Trigger.Run,
                _ => (PostcopyMachine.Trigger?)null,
            };

            // A command the state does not accept leaves the state as it was: the destination
            // fails the migration then, and the proxy reports whichever side closes.
            if (trigger is { } fire)
            {
                PostcopyMachine.TryFire(ref tally.PostcopyState, fire);
            }
        }

        public void OnEndOfSections(in RecordInfo record)
        {
        }

        public void OnVmDescription(in RecordInfo record, ReadOnlySpan<byte> json)
        {
        }
    }
}

/// <summary>A return path, destination to source, read with <see cref="ReturnPathReader"/>; page requests are checked against the main stream's blocks.</summary>
internal sealed class ReturnPathDecoder(ReturnPathReader reader, MigrationStreamReader main, ProxyTally tally, string fileName, TextWriter? log) : ChannelDecoder
{
    private PageRequestChecker? _checker;
    private bool _checkerFailed;

    public override MigrationError? Error => reader.Error;

    public override long Position => reader.Position;

    public override bool IsCompleted => true;

    public override OperationStatus Decode(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, long timestamp)
    {
        var visitor = new Visitor(this, timestamp);
        return reader.Read(ref buffer, isFinalBlock, ref visitor);
    }

    private void OnMessage(in RecordInfo record, in RpMessage message, long timestamp)
    {
        if (message.MsgType is not (MigRpMsg.ReqPages or MigRpMsg.ReqPagesId) || _checkerFailed)
        {
            return;
        }

        // Created at the first request: by then the main stream has announced its blocks and page size.
        _checker ??= new PageRequestChecker(main.Blocks, main.TargetPageSize);
        if (_checker.TryCheck(record, message, out var request))
        {
            tally.OnRequest(request, timestamp);
        }
        else if (_checker.Error is { } error)
        {
            _checkerFailed = true;
            tally.PageRequests++;
            tally.DecodeErrors.Add(error.Format(fileName));
            log?.WriteLine($"proxy: {error.Format(fileName)}; page requests are not timed from here on");
        }
    }

    private readonly struct Visitor(ReturnPathDecoder decoder, long timestamp) : IReturnPathVisitor
    {
        public void OnMessage(in RecordInfo record, in RpMessage message) => decoder.OnMessage(record, message, timestamp);

        public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob)
        {
        }
    }
}
