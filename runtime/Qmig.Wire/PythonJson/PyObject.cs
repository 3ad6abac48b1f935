using System.Diagnostics.CodeAnalysis;

namespace Qmig.Wire.PythonJson;

/// <summary>
/// An ordered dict with Python's assignment rule: setting a key that exists replaces its value
/// where it stands, so the key keeps its first position. The script relies on this for repeated
/// field names and for duplicate keys in the vmdesc JSON.
/// </summary>
public sealed class PyObject : PyValue
{
    private readonly List<KeyValuePair<string, PyValue>> _items = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>How many distinct keys the object has.</summary>
    public int Count => _items.Count;

    /// <summary>The members in the order their keys first appeared, as Python's OrderedDict keeps them.</summary>
    public IReadOnlyList<KeyValuePair<string, PyValue>> Items => _items;

    /// <summary>Gets a member (throws if absent), or sets one with Python's rule: an existing key keeps its position and takes the new value.</summary>
    public PyValue this[string key]
    {
        get => _items[_index[key]].Value;
        set
        {
            if (_index.TryGetValue(key, out var at))
            {
                _items[at] = new(key, value);
            }
            else
            {
                _index.Add(key, _items.Count);
                _items.Add(new(key, value));
            }
        }
    }

    /// <summary>The value of <paramref name="key"/>, or false when the object has no such key.</summary>
    public bool TryGetValue(string key, [NotNullWhen(true)] out PyValue? value)
    {
        if (_index.TryGetValue(key, out var at))
        {
            value = _items[at].Value;
            return true;
        }

        value = null;
        return false;
    }
}
