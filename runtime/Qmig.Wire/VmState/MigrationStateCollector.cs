using Qmig.Wire.PythonJson;
using Qmig.Wire.Streaming;

namespace Qmig.Wire.VmState;

/// <summary>
/// Gathers, while a stream is read, what state.json is built from: sections in the order their
/// START or FULL record appears (the script's key order), the RAM block list, and each FULL
/// body. Bodies are decoded only in <see cref="Build"/>, because a stream read from a pipe
/// brings its vmdesc last.
/// </summary>
public sealed class MigrationStateCollector
{
    private readonly List<Entry> _sections = [];
    private readonly Dictionary<uint, Entry> _byId = new();

    /// <summary>A START or FULL header opens a section; PART and END add nothing here.</summary>
    public void OnSectionHeader(RecordKind kind, SectionInfo section)
    {
        if (kind is not (RecordKind.SectionStart or RecordKind.SectionFull) || _byId.ContainsKey(section.Id))
        {
            return;
        }

        var entry = new Entry(section, kind == RecordKind.SectionFull);
        _sections.Add(entry);
        _byId.Add(section.Id, entry);
    }

    /// <summary>Records a RAM block of section <paramref name="sectionId"/>, which the script lists with its length under that section.</summary>
    public void OnRamBlock(uint sectionId, RamBlock block)
    {
        if (_byId.TryGetValue(sectionId, out var entry))
        {
            // Assignment semantics: a repeated name keeps its first place and takes the last length.
            entry.BlockSizes[block.Name] = new PyString(VmStateFormat.BlockLength(block.UsedLength));
        }
    }

    /// <summary>Keeps the body of a FULL device section (iterative sections are not decoded).</summary>
    public void OnDeviceBody(SectionInfo section, long offset, ReadOnlySpan<byte> body)
    {
        if (_byId.TryGetValue(section.Id, out var entry) && entry.IsFull && entry.Body is null)
        {
            entry.Body = body.ToArray();
            entry.BodyOffset = offset;
        }
    }

    /// <summary>
    /// Decodes every FULL body with <paramref name="vmdesc"/>: the entry the reader matched while
    /// delimiting the body, otherwise the next unused entry with the same idstr and instance (the
    /// vmdesc lists devices in stream order), otherwise any entry with them.
    /// </summary>
    /// <param name="vmdesc">The stream's vmdesc; without one, device bodies stay undecoded.</param>
    /// <param name="limits">Bounds for decoding against a hostile vmdesc; <see cref="VmStateLimits.Default"/> when null.</param>
    /// <param name="shape">Whose analyze-migration.py to imitate; by default the one of the QEMU that wrote <paramref name="vmdesc"/> (<see cref="AnalyzerShapes.For"/>).</param>
    public MigrationState Build(VmDescriptionDocument? vmdesc, VmStateLimits? limits = null, AnalyzerShape? shape = null)
    {
        var chosen = shape ?? (vmdesc is null ? AnalyzerShape.Qemu72 : AnalyzerShapes.For(vmdesc));
        var root = new PyObject();
        var sections = new List<SectionState>(_sections.Count);
        var problems = new List<MigrationError>();
        var next = 0;
        foreach (var entry in _sections)
        {
            var section = entry.Section;
            var key = $"{section.Idstr} ({section.Id})";
            SectionState state;
            if (section.IsRam)
            {
                var ram = new PyObject { ["section sizes"] = entry.BlockSizes };
                state = new SectionState(section, key, ram, 0, null, null, null);
            }
            else if (!entry.IsFull || entry.Body is null)
            {
                // Iterative device sections (spapr/htab, block, dirty-bitmap) have no vmdesc entry;
                // the script shows spapr/htab as "" and fails on the rest.
                state = new SectionState(section, key, new PyString(""), entry.BodyOffset, entry.Body, null, null);
            }
            else
            {
                var description = section.Description ?? (vmdesc is null ? null : Match(vmdesc, section, ref next));
                if (description is null)
                {
                    if (vmdesc is not null)
                    {
                        problems.Add(new MigrationError(entry.BodyOffset, section.Idstr, MigrationRules.DeviceNotDescribed,
                            $"no vmdesc entry describes device {section}; state.json shows it as \"\""));
                    }

                    state = new SectionState(section, key, new PyString(""), entry.BodyOffset, entry.Body, null, null);
                }
                else
                {
                    var result = VmStateDecoder.Decode(entry.Body, description.Description, section.Idstr, limits, chosen);
                    if (result.Error is { } error)
                    {
                        problems.Add(new MigrationError(entry.BodyOffset + error.Offset, section.Idstr, MigrationRules.DeviceStateMismatch,
                            $"device {section} does not match its vmdesc at {error.Path}: {error.Message}"));
                    }

                    state = new SectionState(section, key, result.State, entry.BodyOffset, entry.Body, description, result);
                }
            }

            root[key] = state.Value;
            sections.Add(state);
        }

        return new MigrationState(root, sections, problems, chosen);
    }

    private static VmDescriptionDevice? Match(VmDescriptionDocument vmdesc, SectionInfo section, ref int next)
    {
        var devices = vmdesc.Devices;
        for (var i = next; i < devices.Count; i++)
        {
            if (devices[i].Name == section.Idstr && devices[i].InstanceId == section.InstanceId)
            {
                next = i + 1;
                return devices[i];
            }
        }

        return vmdesc.TryGetDevice(section.Idstr, section.InstanceId, out var device) ? device : null;
    }

    private sealed class Entry(SectionInfo section, bool isFull)
    {
        public SectionInfo Section { get; } = section;

        public bool IsFull { get; } = isFull;

        public PyObject BlockSizes { get; } = new();

        public byte[]? Body { get; set; }

        public long BodyOffset { get; set; }
    }
}
