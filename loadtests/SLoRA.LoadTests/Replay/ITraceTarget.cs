using SLoRA.LoadTests.Workload;

namespace SLoRA.LoadTests.Replay;

/// <summary>
/// What a trace is replayed against: the in-process engine (<see cref="EngineTarget"/>) or,
/// later, a server over HTTP. The replayer keeps the clock; a target only sends and streams.
/// </summary>
public interface ITraceTarget
{
    /// <summary>One line naming the target (model, device, address), for the report.</summary>
    string Description { get; }

    /// <summary>
    /// Sends <paramref name="request"/> and streams what comes back, one item per generated
    /// token, the last one carrying the finish reason. A stream that ends normally is a
    /// completed request; a refused or aborted request throws <see cref="TargetRequestException"/>.
    /// The replayer calls it on its dispatch loop, so it should reach its first await quickly.
    /// </summary>
    IAsyncEnumerable<StreamedToken> SendAsync(TraceRequest request, CancellationToken cancellationToken);

    /// <summary>Page and queue figures now, or null when the target cannot tell.</summary>
    MemorySnapshot? Snapshot();
}
