namespace Qmig.Wire.Extraction;

/// <summary>
/// One subsection of a stream's QEMU_VM_CONFIGURATION record: its name (<c>configuration/capabilities</c>,
/// …) and its bytes on the wire, subsection header and body.
/// </summary>
public readonly record struct ConfigurationSubsection(string Name, ReadOnlyMemory<byte> Record);
