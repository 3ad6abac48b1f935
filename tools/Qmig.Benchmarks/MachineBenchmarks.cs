using BenchmarkDotNet.Attributes;
using Qmig.Linux.Machines;
using Stateless;
using State = Qmig.Linux.Machines.PageMachine.State;
using Trigger = Qmig.Linux.Machines.PageMachine.Trigger;

namespace Qmig.Benchmarks;

/// <summary>
/// The generated page machine's TryFire against the Stateless library on the same machine and the
/// same precomputed trigger sequence: a random walk of legal page transitions (fault, place,
/// discard), so both sides do only successful transitions. Stateless is configured from the
/// generated table itself, so the two machines cannot differ, and it keeps its state in a field
/// (external storage) so each invocation starts from missing without rebuilding it.
/// </summary>
[MemoryDiagnoser]
public partial class MachineBenchmarks
{
    private const int Steps = 1024;

    private Trigger[] _triggers = Array.Empty<Trigger>();
    private StateMachine<State, Trigger> _immediate = null!;
    private StateMachine<State, Trigger> _queued = null!;
    private State _statelessState;

    [GlobalSetup]
    public void Setup()
    {
        // A fixed seed: every run and every benchmark sees the same sequence.
        var random = new Random(20150225);
        var triggers = new Trigger[Steps];
        var state = PageMachine.Initial;
        for (var i = 0; i < Steps; i++)
        {
            var legal = Enumerable.Range(0, PageMachine.TriggerCount).Select(t => (Trigger)t).Where(t => Accepts(state, t)).ToArray();
            triggers[i] = legal[random.Next(legal.Length)];
            state = PageMachine.Fire(state, triggers[i]);
        }

        _triggers = triggers;
        _immediate = Stateless(FiringMode.Immediate);
        _queued = Stateless(FiringMode.Queued);
        SetupAtRevision();
    }

    /// <summary>Prepares an older revision's machine when against-revision.sh compiles it in (MachineBenchmarks.AtRevision.cs).</summary>
    partial void SetupAtRevision();

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps)]
    public State Generated_TryFire()
    {
        var state = PageMachine.Initial;
        foreach (var trigger in _triggers)
        {
            if (!PageMachine.TryFire(ref state, trigger))
            {
                throw new InvalidOperationException("the sequence holds only legal transitions");
            }
        }

        return state;
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public State Stateless_Fire_Immediate() => Run(_immediate);

    /// <summary>Stateless's default firing mode, which queues triggers fired from inside actions.</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public State Stateless_Fire_Queued() => Run(_queued);

    private State Run(StateMachine<State, Trigger> machine)
    {
        _statelessState = PageMachine.Initial;
        foreach (var trigger in _triggers)
        {
            machine.Fire(trigger); // throws on an illegal trigger, like Fire; none occur here
        }

        return _statelessState;
    }

    private StateMachine<State, Trigger> Stateless(FiringMode mode)
    {
        var machine = new StateMachine<State, Trigger>(() => _statelessState, s => _statelessState = s, mode);
        for (var s = 0; s < PageMachine.StateCount; s++)
        {
            var configuration = machine.Configure((State)s);
            for (var t = 0; t < PageMachine.TriggerCount; t++)
            {
                var to = PageMachine.Transitions[(s * PageMachine.TriggerCount) + t];
                if (to != PageMachine.NoTransition)
                {
                    configuration.Permit((Trigger)t, (State)to);
                }
            }
        }

        return machine;
    }

    private static bool Accepts(State state, Trigger trigger) => PageMachine.TryFire(ref state, trigger);
}
