namespace Qmig.Cli;

/// <summary>
/// A progress line on stderr for long runs, drawn only when stderr is a terminal, so piped or
/// redirected output stays clean.
/// </summary>
internal sealed class Progress : IDisposable
{
    private readonly long? _total;
    private readonly bool _enabled;
    private long _lastDrawn;
    private DateTime _lastTime = DateTime.UtcNow;

    private Progress(long? total, bool enabled)
    {
        _total = total;
        _enabled = enabled;
    }

    public static Progress ForInput(InputFile input) =>
        new(input.Length, !Console.IsErrorRedirected && (input.Length ?? long.MaxValue) > 64L << 20);

    public void Report(long position)
    {
        if (!_enabled || position - _lastDrawn < 16 << 20 || (DateTime.UtcNow - _lastTime).TotalMilliseconds < 200)
        {
            return;
        }

        _lastDrawn = position;
        _lastTime = DateTime.UtcNow;
        var text = _total is long total && total > 0
            ? $"\r{position * 100 / total,3}% {position >> 20} / {total >> 20} MiB"
            : $"\r{position >> 20} MiB";
        Console.Error.Write(text);
    }

    public void Dispose()
    {
        if (_enabled && _lastDrawn > 0)
        {
            Console.Error.Write("\r" + new string(' ', 40) + "\r");
        }
    }
}
