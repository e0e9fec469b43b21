using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Workload;

namespace SLoRA.Engine.Tests.LoadTests;

/// <summary>A target without an engine: streams OutputLength tokens, or fails as <see cref="Fail"/> says.</summary>
internal sealed class FakeTarget : ITraceTarget
{
    private int _inFlight;

    public string Description => "fake";

    /// <summary>Decides, per request, an exception to throw instead of streaming; null streams.</summary>
    public Func<TraceRequest, Exception?> Fail { get; init; } = _ => null;

    /// <summary>Pause between tokens.</summary>
    public TimeSpan TokenDelay { get; init; }

    public bool ReportsMemory { get; init; } = true;

    public ConcurrentDictionary<int, DateTime> SentAt { get; } = new();

    public async IAsyncEnumerable<StreamedToken> SendAsync(TraceRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        SentAt[request.Index] = DateTime.UtcNow;
        if (Fail(request) is { } error)
            throw error;
        Interlocked.Increment(ref _inFlight);
        try
        {
            for (int i = 0; i < request.OutputLength; i++)
            {
                if (TokenDelay > TimeSpan.Zero)
                    await Task.Delay(TokenDelay, cancellationToken);
                else
                    await Task.Yield();
                yield return new StreamedToken(i, i == request.OutputLength - 1 ? "length" : null);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public MemorySnapshot? Snapshot()
    {
        if (!ReportsMemory)
            return null;
        int running = Volatile.Read(ref _inFlight);
        return new MemorySnapshot(1000, 1000 - 10 * running, 10 * running, 0, running, 0);
    }
}
