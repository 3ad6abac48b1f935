using Qmig.Wire.PythonJson;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.VmState;

/// <summary>
/// One section as state.json shows it, under <see cref="Key"/> ("idstr (section_id)"), with what
/// it was decoded from: the FULL body and its absolute offset, the vmdesc entry, the decoder's result.
/// </summary>
public sealed record SectionState(
    SectionInfo Section,
    string Key,
    PyValue Value,
    long BodyOffset,
    byte[]? Body,
    VmDescriptionDevice? Description,
    VmStateResult? Result);
