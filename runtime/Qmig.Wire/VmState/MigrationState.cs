using Qmig.Wire.PythonJson;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.VmState;

/// <summary>
/// The device state of a whole stream: <see cref="Root"/> is analyze-migration.py's state dump
/// (write it with <see cref="PythonJsonWriter"/> to get its state.json), <see cref="Sections"/>
/// the same per section, <see cref="Problems"/> every body that did not match its description,
/// <see cref="Shape"/> whose script's tree it is.
/// </summary>
public sealed record MigrationState(PyObject Root, IReadOnlyList<SectionState> Sections, IReadOnlyList<MigrationError> Problems, AnalyzerShape Shape);
