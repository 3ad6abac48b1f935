using Qmig.Wire.Streaming;

namespace Qmig.Wire.ReturnPath;

/// <summary>Receives every return-path message, and the received-bitmap blob that follows a RECV_BITMAP message.</summary>
public interface IReturnPathVisitor
{
    void OnMessage(in RecordInfo record, in RpMessage message);

    void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob);
}
