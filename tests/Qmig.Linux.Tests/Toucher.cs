namespace Qmig.Linux.Tests;

/// <summary>
/// A thread that reads (or writes) registered memory and so blocks in a userfault until it is resolved.
/// The access goes through <see cref="FaultingMemory"/> (native code) so that a garbage collection
/// started by another test never waits on a thread parked in a fault.
/// </summary>
internal sealed class Toucher
{
    private readonly Thread _thread;
    private readonly Func<ulong[]> _body;
    private volatile int _tid;
    private ulong[]? _values;
    private Exception? _error;

    private Toucher(Func<ulong[]> body, string name)
    {
        _body = body;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    public int ThreadId => _tid;

    public ulong[] Values => _values ?? throw new InvalidOperationException("not finished", _error);

    public static Toucher Reading(params ulong[] addresses)
        => Start(() => addresses.Select(FaultingMemory.ReadUInt64).ToArray(), "toucher");

    public static Toucher Writing(ulong address, ulong value)
        => Start(() => { FaultingMemory.WriteUInt64(address, value); return [value]; }, "writer");

    public static Toucher Start(Func<ulong[]> body, string name)
    {
        var toucher = new Toucher(body, name);
        toucher._thread.Start();
        SpinWait.SpinUntil(() => toucher._tid != 0);
        return toucher;
    }

    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    /// <summary>Waits for the thread and rethrows what it threw; a hang fails the test instead of hanging it.</summary>
    public ulong[] Wait(TimeSpan? timeout = null)
    {
        Assert.True(_thread.Join(timeout ?? TimeSpan.FromSeconds(10)), "the touching thread is still blocked in a page fault");
        if (_error is not null)
        {
            throw new InvalidOperationException("touching thread failed", _error);
        }

        return Values;
    }

    private void Run()
    {
        _tid = Interop.Libc.GetTid();
        try
        {
            _values = _body();
        }
        catch (Exception error)
        {
            _error = error;
        }
    }
}
