using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>A device section's state as the source sent it, kept to be written out again.</summary>
public sealed record ReceivedDevice(SectionInfo Section, byte[] Body);
