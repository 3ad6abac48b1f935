using Microsoft.Extensions.Logging;

namespace Qmig.Cli;

/// <summary>
/// Writes a runtime type's log messages to one of the writers qmig prints to, a line each, exactly
/// as formatted: the messages are already what a user of the command reads. <paramref name="prefix"/>
/// goes before each, for messages that speak for the command itself (<c>qmig: </c>).
/// </summary>
internal sealed class WriterLogger<T>(TextWriter writer, string prefix = "") : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            writer.WriteLine(prefix + formatter(state, exception));
        }
    }
}
