using Qmig.Wire;
using Qmig.Wire.ReturnPath;
using Qmig.Wire.Streaming;

namespace Qmig.Fuzz;

/// <summary>Counts return-path records and checks they lie inside the input.</summary>
public readonly struct FuzzReturnPathVisitor(FuzzImage image) : IReturnPathVisitor
{
    public FuzzImage Image => image;

    public void OnMessage(in RecordInfo record, in RpMessage message) => image.Saw(record);

    public void OnReceivedBitmap(in RecordInfo record, in RecvBitmapBlob blob) => image.Saw(record);
}
