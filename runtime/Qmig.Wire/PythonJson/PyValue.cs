namespace Qmig.Wire.PythonJson;

/// <summary>
/// A JSON value as Python's <c>json</c> module holds it after <c>json.loads(...,
/// object_pairs_hook=OrderedDict)</c>: what analyze-migration.py builds before it encodes
/// state.json and desc.json. Writing one back with <see cref="PythonJsonWriter"/> gives Python's bytes.
/// </summary>
public abstract class PyValue
{
    private protected PyValue()
    {
    }
}
