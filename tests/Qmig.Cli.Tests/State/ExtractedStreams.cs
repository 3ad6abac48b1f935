using System.Collections.Concurrent;
using Qmig.Cli.Commands;

namespace Qmig.Cli.Tests.State;

/// <summary>Each fixture stream extracted once (in-process, as <c>qmig extract</c>) and shared by the conformance tests.</summary>
public sealed class ExtractedStreams : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly ConcurrentDictionary<string, Lazy<(int ExitCode, string Directory, string Errors)>> _runs = new();

    public (int ExitCode, string Directory, string Errors) Get(string name) => _runs.GetOrAdd(name, n => new(() =>
    {
        var directory = _root.Combine(n);
        using var errors = new StringWriter();
        var code = ExtractCommand.Run(Fixtures.Stream(n), directory, null, 4096, errors);
        return (code, directory, errors.ToString());
    })).Value;

    public void Dispose() => _root.Dispose();
}
