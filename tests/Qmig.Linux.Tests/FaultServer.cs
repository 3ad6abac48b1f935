namespace Qmig.Linux.Tests;

/// <summary>
/// A fault-handling thread for tests: reads events from a userfaultfd and hands each to a callback,
/// until disposed. Events and callback failures are kept for the test to assert on.
/// </summary>
internal sealed class FaultServer : IDisposable
{
    private readonly Userfaultfd _uffd;
    private readonly Action<UffdEvent> _handle;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly List<UffdEvent> _events = [];
    private Exception? _error;

    public FaultServer(Userfaultfd uffd, Action<UffdEvent> handle)
    {
        _uffd = uffd;
        _handle = handle;
        _thread = new Thread(Run) { IsBackground = true, Name = "fault-server" };
        _thread.Start();
    }

    public IReadOnlyList<UffdEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public void WaitForEvents(int count, TimeSpan? timeout = null)
    {
        Assert.True(
            SpinWait.SpinUntil(() => Events.Count >= count || _error is not null, timeout ?? TimeSpan.FromSeconds(10)),
            $"expected {count} events, got {Events.Count}");
        ThrowIfFailed();
    }

    public void ThrowIfFailed()
    {
        if (_error is not null)
        {
            throw new InvalidOperationException("the fault server failed", _error);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        Assert.True(_thread.Join(TimeSpan.FromSeconds(10)), "fault server did not stop on cancellation");
        _stop.Dispose();
        ThrowIfFailed();
    }

    private void Run()
    {
        var buffer = new UffdEvent[16];
        try
        {
            while (true)
            {
                int count = _uffd.ReadEvents(buffer, -1, _stop.Token);
                for (int i = 0; i < count; i++)
                {
                    lock (_events)
                    {
                        _events.Add(buffer[i]);
                    }

                    _handle(buffer[i]);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception error)
        {
            _error = error;
        }
    }
}
