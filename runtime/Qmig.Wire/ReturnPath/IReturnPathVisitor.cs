using Qmig.Wire.Streaming;

namespace Qmig.Wire.ReturnPath;

/// <summary>Receives every return-path message, and the received-bitmap blob that follows a RECV_BITMAP message.</summary>
public interface IReturnPathVisitor
{
    /// <summary>One message (PONG, REQ_PAGES, SHUT, RESUME_ACK, ...), already checked against its type's length; spans are valid only during the call.</summary>
    void OnMessage(in RecordInfo record, in RpMessage message);

    /// <summary>The bitmap of pages the destination holds, sent after RECV_BITMAP when postcopy recovers; the source resends the rest.</summary>
    void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob);
}
