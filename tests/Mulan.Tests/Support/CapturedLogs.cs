using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Mulan.Tests.Support;

/// <summary>Keeps every log line a server writes (all levels, exceptions included) so tests can search them for secrets.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append(": ").Append(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (k, v) in values)
                {
                    line.Append(" |").Append(k).Append('=').Append(v);
                }
            }
            if (exception is not null)
            {
                line.Append('\n').Append(exception);
            }
            lines.Enqueue(line.ToString());
        }
    }
}
