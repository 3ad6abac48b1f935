using Qmig.Wire.Streaming;

namespace Qmig.Postcopy.Destination;

/// <summary>A device section's state as the source sent it: its header (idstr, instance, version) and its body, for a VMM to load at POSTCOPY_RUN or for the precopy stream written afterwards.</summary>
public sealed record ReceivedDevice(SectionInfo Section, byte[] Body);
