using System.Buffers.Binary;
using FsCheck.Xunit;
using Qmig.Postcopy.Source;
using Qmig.Wire;

namespace Qmig.Postcopy.Tests.Source;

/// <summary>
/// A destination that answers with a broken return path: after a few well-formed PONGs, one message that
/// breaks a rule. The migration must fail with an error that names the message's offset and the rule, and
/// no page outside the guest's blocks may be read.
/// </summary>
public sealed class HostileReturnPathTests
{
    private const int BlockPages = 64;

    public enum Hostility
    {
        UnknownType,
        WrongFixedLength,
        UnknownBlock,
        RequestBeyondBlock,
        AbsurdLength,
        UnnamedFirstRequest,
        UnalignedRequest,
        RecoveryMessage,
        Truncated,
    }

    [Property(MaxTest = 45)]
    public bool EveryBrokenMessageFailsTheMigrationWithItsOffsetAndRule(Hostility hostility, byte pongs, uint noise)
    {
        var prefix = pongs % 5;
        var (message, offsetInMessage, rule) = Build(hostility, noise);
        var expectedOffset = (prefix * 8) + offsetInMessage;
        var guest = new InMemoryGuest(3, ("pc.ram", BlockPages));
        using var destination = new ScriptedDestination { SendShut = false, AnswerPings = false };
        using var socket = destination.ConnectAsync().GetAwaiter().GetResult();
        var run = destination.RunAsync();
        var bytes = new List<byte>();
        for (var i = 0; i < prefix; i++)
        {
            bytes.AddRange(new byte[] { 0, 2, 0, 4, 0, 0, 0, 9 });
        }

        bytes.AddRange(message);
        destination.SendRaw(bytes.ToArray());
        if (hostility == Hostility.Truncated)
        {
            destination.CloseReturnPath();
        }

        var source = new PostcopySource(guest);
        var failure = Assert.Throws<PostcopySourceException>(() => source.MigrateAsync(socket).WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult());
        socket.Dispose();
        // The stand-in's own end (the source hung up on it) is not what is tested here.
        run.ContinueWith(_ => { }, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(10));

        Assert.True(failure.ReturnPathError is not null, $"{hostility}: failed without a return-path error: {failure.Message}");
        Assert.Equal(rule.Id, failure.ReturnPathError!.Rule.Id);
        Assert.Equal(expectedOffset, failure.ReturnPathError.Offset);
        Assert.Contains($"0x{expectedOffset:x}", failure.Message, StringComparison.Ordinal);
        Assert.Contains(rule.Id, failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, guest.ReadsOutside);
        return true;
    }

    private static (byte[] Message, long OffsetInMessage, Wire.Streaming.MigrationRule Rule) Build(Hostility hostility, uint noise)
    {
        var blockBytes = (ulong)BlockPages * 4096;
        switch (hostility)
        {
            case Hostility.UnknownType:
                return (Message((ushort)(8 + (noise % 1000)), []), 0, Wire.Streaming.MigrationRules.UnknownMessage);
            case Hostility.WrongFixedLength:
                MigRpMsg[] fixedTypes = [MigRpMsg.Shut, MigRpMsg.Pong, MigRpMsg.ReqPages, MigRpMsg.SwitchoverAck];
                var type = fixedTypes[noise % 4];
                var length = type == MigRpMsg.SwitchoverAck ? 4 : type == MigRpMsg.ReqPages ? 8 : 2;
                // A payload the generated reader parses is reported where the payload starts; one it has no
                // layout for (SWITCHOVER_ACK), where the length field is.
                return (Message((ushort)type, new byte[length]), type == MigRpMsg.SwitchoverAck ? 2 : 4, Wire.Streaming.MigrationRules.MessageLength);
            case Hostility.UnknownBlock:
                return (Message((ushort)MigRpMsg.ReqPagesId, PostcopySourceTests.RequestPayload("no.such" + (noise % 100), 0, 4096)), 4, Wire.Streaming.MigrationRules.RequestOutsideBlock);
            case Hostility.RequestBeyondBlock:
                return (Message((ushort)MigRpMsg.ReqPagesId, PostcopySourceTests.RequestPayload("pc.ram", blockBytes + ((ulong)(noise % 1000) * 4096), 4096)), 4, Wire.Streaming.MigrationRules.RequestOutsideBlock);
            case Hostility.AbsurdLength:
                return (Message((ushort)MigRpMsg.ReqPagesId, PostcopySourceTests.RequestPayload("pc.ram", 4096, 0xFFFFF000u - (noise % 1000 * 4096))), 4, Wire.Streaming.MigrationRules.RequestOutsideBlock);
            case Hostility.UnnamedFirstRequest:
                return (Message((ushort)MigRpMsg.ReqPages, PostcopySourceTests.RequestPayload(null, (ulong)(noise % BlockPages) * 4096, 4096)), 4, Wire.Streaming.MigrationRules.RequestOutsideBlock);
            case Hostility.UnalignedRequest:
                return (Message((ushort)MigRpMsg.ReqPagesId, PostcopySourceTests.RequestPayload("pc.ram", (ulong)(noise % BlockPages) * 4096 + 1 + (noise % 4095), 4096)), 4, Wire.Streaming.MigrationRules.RequestOutsideBlock);
            case Hostility.RecoveryMessage:
                var value = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(value, 1);
                return (Message((ushort)MigRpMsg.ResumeAck, value), 0, Wire.Streaming.MigrationRules.MisplacedRecord);
            default:
                // A REQ_PAGES_ID cut in the middle, then the destination hangs up.
                var whole = Message((ushort)MigRpMsg.ReqPagesId, PostcopySourceTests.RequestPayload("pc.ram", 0, 4096));
                return (whole[..(int)(1 + (noise % (uint)(whole.Length - 1)))], 0, Wire.Streaming.MigrationRules.Truncated);
        }
    }

    private static byte[] Message(ushort type, byte[] payload)
    {
        var bytes = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, type);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)payload.Length);
        payload.CopyTo(bytes.AsSpan(4));
        return bytes;
    }
}
