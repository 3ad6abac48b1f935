using System.Buffers;
using Qmig.Cli.Output;
using Qmig.Wire;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Cli.Commands;

/// <summary><c>qmig dump --return-path</c> and <c>qmig stats --return-path</c>: a captured destination-to-source stream.</summary>
internal static class ReturnPathDump
{
    public static int Run(InputFile file, IRecordRenderer renderer, bool hex)
    {
        var visitor = new DescribingVisitor(renderer, hex);
        var reader = new ReturnPathReader();
        var error = MigrationStreamDriver.Read(file.Stream, reader, ref visitor);
        renderer.Finish(error?.Format(file.Name));
        return Report(file, error);
    }

    public static int Report(InputFile file, MigrationError? error)
    {
        if (error is null)
        {
            return ExitCodes.Ok;
        }

        Console.Error.WriteLine(error.Format(file.Name));
        return error.IsUnsupported ? ExitCodes.Unsupported : ExitCodes.Invalid;
    }

    public static string MessageName(MigRpMsg type) => type.ToQemuName()?.Replace("MIG_RP_MSG_", "") ?? $"0x{(ushort)type:x}";

    private sealed class DescribingVisitor(IRecordRenderer renderer, bool hex) : IReturnPathVisitor
    {
        public void OnMessage(in RecordInfo record, in RpMessage message)
        {
            var fields = new RecordFields(MessageName(message.MsgType), record.Offset, record.Length, 0, 0, hex ? record.Raw.ToArray() : null)
                .Add("len", (int)message.LenPayload);
            switch (message.MsgType)
            {
                case MigRpMsg.Shut when message.TryReadPayloadAsShut(out var shut, out _, out _) == OperationStatus.Done:
                    fields.Add("status", shut.Status);
                    break;
                case MigRpMsg.Pong when message.TryReadPayloadAsPong(out var pong, out _, out _) == OperationStatus.Done:
                    fields.Add("value", new Hex(pong.Value));
                    break;
                case MigRpMsg.ReqPagesId when message.TryReadPayloadAsReqPagesId(out var request, out _, out _) == OperationStatus.Done:
                    fields.Add("block", RecordDescriber.Text(request.BlockName)).Add("start", new Hex(request.Start)).Add("length", new Hex(request.Length));
                    break;
                case MigRpMsg.ReqPages when message.TryReadPayloadAsReqPages(out var request, out _, out _) == OperationStatus.Done:
                    fields.Add("start", new Hex(request.Start)).Add("length", new Hex(request.Length));
                    break;
                case MigRpMsg.RecvBitmap when message.TryReadPayloadAsRpRecvBitmap(out var bitmap, out _, out _) == OperationStatus.Done:
                    fields.Add("block", RecordDescriber.Text(bitmap.BlockName));
                    break;
                case MigRpMsg.ResumeAck when message.TryReadPayloadAsResumeAck(out var ack, out _, out _) == OperationStatus.Done:
                    fields.Add("value", ack.Value);
                    break;
            }

            renderer.Write(fields);
        }

        public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob)
        {
            long set = 0;
            foreach (var b in blob.Bitmap)
            {
                set += System.Numerics.BitOperations.PopCount(b);
            }

            renderer.Write(new RecordFields("RECV_BITMAP_BLOB", record.Offset, record.Length, 0, 0, hex ? record.Raw.ToArray() : null)
                .Add("bitmap_bytes", blob.LenBitmap).Add("pages_received", set));
        }
    }
}
