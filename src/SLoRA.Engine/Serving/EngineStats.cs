namespace SLoRA.Engine.Serving;

/// <summary>A snapshot of the engine's state.</summary>
/// <param name="Running">Admitted requests.</param>
/// <param name="Waiting">Queued requests.</param>
/// <param name="PagesTotal">Pages in the unified pool.</param>
/// <param name="PagesFree">Free pages.</param>
/// <param name="PagesKv">Pages holding KV cache.</param>
/// <param name="PagesAdapter">Pages holding adapter weights.</param>
/// <param name="Steps">Forward steps run so far.</param>
/// <param name="GeneratedTokens">Tokens generated so far.</param>
/// <param name="LastBatchSize">Sequences in the last step.</param>
/// <param name="AdaptersRegistered">Adapters registered (held in host memory).</param>
/// <param name="AdaptersResident">Adapters in device pages.</param>
/// <param name="LastBatchAdapters">Distinct adapters in the last step.</param>
public sealed record EngineStats(int Running, int Waiting, int PagesTotal, int PagesFree, int PagesKv, int PagesAdapter,
    long Steps, long GeneratedTokens, int LastBatchSize, int AdaptersRegistered = 0, int AdaptersResident = 0, int LastBatchAdapters = 0)
{
    /// <summary>Steps that only decoded (one token per sequence, no prefill).</summary>
    public long DecodeSteps { get; init; }

    /// <summary>Wall time of those steps, from launch to results on the host.</summary>
    public double DecodeSeconds { get; init; }

    /// <summary>Context tokens (KV entries) those steps attended over, summed.</summary>
    public long DecodeContextTokens { get; init; }

    /// <summary>Tokens generated per second over the last second or so of work.</summary>
    public double TokensPerSecond { get; init; }

    /// <summary>Adapters loaded ahead of need.</summary>
    public long AdapterPrefetches { get; init; }
}
