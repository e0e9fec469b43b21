using Microsoft.Extensions.Logging;

namespace SLoRA.Grid.Tests.Fixtures;

/// <summary>Appends warnings and errors of one silo to a file (set SLORA_TEST_WARNINGS=folder), for flaky-test forensics.</summary>
internal sealed class WarningFileLogger(string path) : ILoggerProvider
{
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        lock (_lock)
            File.AppendAllText(path, line + Environment.NewLine);
    }

    private sealed class Logger(WarningFileLogger owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && (logLevel >= LogLevel.Warning || category.StartsWith("SLoRA", StringComparison.Ordinal));

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                owner.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)} {exception?.GetType().Name} {exception?.Message}");
        }
    }
}
