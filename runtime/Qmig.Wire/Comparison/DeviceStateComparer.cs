using Qmig.Wire.PythonJson;
using Qmig.Wire.VmState;

namespace Qmig.Wire.Comparison;

/// <summary>
/// Pairs the device sections of two streams by idstr and instance (in stream order when a pair
/// repeats; section ids may differ) and compares them field by field, or byte by byte when a
/// side could not be decoded.
/// </summary>
public static class DeviceStateComparer
{
    /// <summary>The devices of <paramref name="a"/> and <paramref name="b"/> that differ, in <paramref name="a"/>'s order, then those only in <paramref name="b"/>.</summary>
    public static IReadOnlyList<DeviceDifference> Compare(MigrationState a, MigrationState b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var pending = new Dictionary<(string, uint), Queue<SectionState>>();
        foreach (var section in b.Sections.Where(s => !s.Section.IsRam))
        {
            var key = (section.Section.Idstr, section.Section.InstanceId);
            if (!pending.TryGetValue(key, out var queue))
            {
                pending[key] = queue = new Queue<SectionState>();
            }

            queue.Enqueue(section);
        }

        var differences = new List<DeviceDifference>();
        foreach (var left in a.Sections.Where(s => !s.Section.IsRam))
        {
            var key = (left.Section.Idstr, left.Section.InstanceId);
            if (!pending.TryGetValue(key, out var queue) || !queue.TryDequeue(out var right))
            {
                differences.Add(new DeviceDifference(key.Idstr, key.InstanceId, DiffPresence.OnlyInA, null, [], null));
                continue;
            }

            if (CompareDevice(left, right) is { } difference)
            {
                differences.Add(difference);
            }
        }

        foreach (var right in b.Sections.Where(s => !s.Section.IsRam))
        {
            var key = (right.Section.Idstr, right.Section.InstanceId);
            if (pending[key].Any(s => ReferenceEquals(s, right)))
            {
                differences.Add(new DeviceDifference(key.Idstr, key.InstanceId, DiffPresence.OnlyInB, null, [], null));
            }
        }

        return differences;
    }

    private static DeviceDifference? CompareDevice(SectionState a, SectionState b)
    {
        (uint, uint)? versions = a.Section.VersionId != b.Section.VersionId ? (a.Section.VersionId, b.Section.VersionId) : null;
        var fields = new List<FieldDifference>();
        BodyDifference? body = null;
        if (a.Result is { Succeeded: true } && b.Result is { Succeeded: true })
        {
            CompareValues("", a.Value, b.Value, fields);
        }
        else
        {
            body = CompareBodies(a.Body ?? [], b.Body ?? []);
        }

        return versions is null && fields.Count == 0 && body is null
            ? null
            : new DeviceDifference(a.Section.Idstr, a.Section.InstanceId, DiffPresence.Both, versions, fields, body);
    }

    private static void CompareValues(string path, PyValue a, PyValue b, List<FieldDifference> into)
    {
        switch (a, b)
        {
            case (PyObject x, PyObject y):
                foreach (var (key, value) in x.Items)
                {
                    var child = path.Length == 0 ? key : $"{path}.{key}";
                    if (y.TryGetValue(key, out var other))
                    {
                        CompareValues(child, value, other, into);
                    }
                    else
                    {
                        into.Add(new FieldDifference(child, value, null));
                    }
                }

                foreach (var (key, value) in y.Items)
                {
                    if (!x.TryGetValue(key, out _))
                    {
                        into.Add(new FieldDifference(path.Length == 0 ? key : $"{path}.{key}", null, value));
                    }
                }

                break;
            case (PyList x, PyList y):
                for (var i = 0; i < Math.Max(x.Items.Count, y.Items.Count); i++)
                {
                    var child = $"{path}[{i}]";
                    if (i >= x.Items.Count)
                    {
                        into.Add(new FieldDifference(child, null, y.Items[i]));
                    }
                    else if (i >= y.Items.Count)
                    {
                        into.Add(new FieldDifference(child, x.Items[i], null));
                    }
                    else
                    {
                        CompareValues(child, x.Items[i], y.Items[i], into);
                    }
                }

                break;
            default:
                if (!ScalarEquals(a, b))
                {
                    into.Add(new FieldDifference(path, a, b));
                }

                break;
        }
    }

    private static bool ScalarEquals(PyValue a, PyValue b) => (a, b) switch
    {
        (PyString x, PyString y) => x.Value == y.Value,
        (PyBool x, PyBool y) => x.Value == y.Value,
        (PyNumber x, PyNumber y) => x.Repr == y.Repr,
        (PyNull, PyNull) => true,
        _ => false,
    };

    private static BodyDifference? CompareBodies(byte[] a, byte[] b)
    {
        var common = Math.Min(a.Length, b.Length);
        var first = a.AsSpan(0, common).CommonPrefixLength(b.AsSpan(0, common));
        if (first == common && a.Length == b.Length)
        {
            return null;
        }

        long differing = 0;
        for (var i = first; i < common; i++)
        {
            if (a[i] != b[i])
            {
                differing++;
            }
        }

        return new BodyDifference(first, differing, a.Length, b.Length);
    }
}
