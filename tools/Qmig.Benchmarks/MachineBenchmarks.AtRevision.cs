#if QMIG_AT_REVISION
extern alias atrevision;

using BenchmarkDotNet.Attributes;
#if QMIG_AT_REVISION_PAGE_MACHINE_IN_LINUX
using RevisionPageMachine = atrevision::Qmig.Linux.Machines.PageMachine;
#else
using RevisionPageMachine = atrevision::Qmig.Wire.Machines.PageMachine;
#endif

namespace Qmig.Benchmarks;

/// <summary>
/// <see cref="Generated_TryFire"/> calling an older revision's generated page machine instead of
/// today's, on the same trigger sequence, so the two compare in the same run. Compiled only when
/// against-revision.sh builds that revision (QMIG_AT_REVISION, assemblies under the alias atrevision).
/// </summary>
public partial class MachineBenchmarks
{
    private RevisionPageMachine.Trigger[] _revisionTriggers = Array.Empty<RevisionPageMachine.Trigger>();

    partial void SetupAtRevision()
    {
        Console.WriteLine($"// AtRevision: PageMachine from {typeof(RevisionPageMachine).Assembly.Location}");

        // Today's walk in the revision's trigger type; the revision's TryFire refuses it if its table differs.
        _revisionTriggers = Array.ConvertAll(_triggers, trigger => (RevisionPageMachine.Trigger)(byte)trigger);
        if (AtRevision_Generated_TryFire() != (byte)Generated_TryFire())
        {
            throw new InvalidOperationException("The revision's machine ends the walk in another state than today's");
        }
    }

    /// <summary>
    /// <see cref="Generated_TryFire"/> with the revision's machine. It returns the state as a byte (the
    /// enum's underlying type, so nothing is converted at run time) because BenchmarkDotNet's
    /// generated runner names the return type without the extern alias.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public byte AtRevision_Generated_TryFire()
    {
        var state = RevisionPageMachine.Initial;
        foreach (var trigger in _revisionTriggers)
        {
            if (!RevisionPageMachine.TryFire(ref state, trigger))
            {
                throw new InvalidOperationException("the sequence holds only legal transitions");
            }
        }

        return (byte)state;
    }
}
#endif
