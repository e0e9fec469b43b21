namespace SLoRA.Grid.Status;

/// <summary>
/// One silo's GPU state: what its heartbeats carry and what <see cref="IGpuSiloGrain.GetStatusAsync"/>
/// returns. A silo without an engine (a pure gateway) reports <see cref="HasEngine"/> false and zeros.
/// </summary>
[GenerateSerializer, Immutable, Alias("slora.GpuSiloStatus")]
public sealed record GpuSiloStatus
{
    /// <summary>The silo.</summary>
    [Id(0)] public required SiloAddress Silo { get; init; }

    /// <summary>Whether the silo runs an engine; gateways do not and never host adapters.</summary>
    [Id(1)] public bool HasEngine { get; init; }

    /// <summary>Heartbeat counter of the publishing silo; a view keeps the highest it has seen.</summary>
    [Id(2)] public long Sequence { get; init; }

    /// <summary>When the silo took this snapshot.</summary>
    [Id(3)] public DateTimeOffset Timestamp { get; init; }

    /// <summary>The device, for humans.</summary>
    [Id(4)] public string Device { get; init; } = "";

    /// <summary>Pages in the unified pool.</summary>
    [Id(5)] public int PagesTotal { get; init; }

    /// <summary>Free pages.</summary>
    [Id(6)] public int PagesFree { get; init; }

    /// <summary>Pages holding KV cache.</summary>
    [Id(7)] public int PagesKv { get; init; }

    /// <summary>Pages holding adapter weights.</summary>
    [Id(8)] public int PagesAdapter { get; init; }

    /// <summary>Admitted requests.</summary>
    [Id(9)] public int Running { get; init; }

    /// <summary>Queued requests.</summary>
    [Id(10)] public int Waiting { get; init; }

    /// <summary>Adapters registered with the engine (their grains are active here).</summary>
    [Id(11)] public int AdaptersRegistered { get; init; }

    /// <summary>Adapters in device pages.</summary>
    [Id(12)] public int AdaptersResident { get; init; }

    /// <summary>Forward steps run so far.</summary>
    [Id(13)] public long Steps { get; init; }

    /// <summary>Tokens generated so far.</summary>
    [Id(14)] public long GeneratedTokens { get; init; }

    /// <summary>Distinct adapters in the last step.</summary>
    [Id(15)] public int LastBatchAdapters { get; init; }

    /// <summary>Whether the silo judges itself overloaded (queue or pool past its thresholds).</summary>
    [Id(16)] public bool Overloaded { get; init; }

    /// <summary>Ids of the adapters active here (capped in heartbeats).</summary>
    [Id(17)] public IReadOnlyList<string> ActiveAdapters { get; init; } = [];

    /// <summary>Ids of adapters kept warm in host memory after their grain left (capped in heartbeats).</summary>
    [Id(18)] public IReadOnlyList<string> WarmAdapters { get; init; } = [];

    /// <summary>Fraction of the pool that is free, 0 when there is no pool.</summary>
    public double FreeFraction => PagesTotal == 0 ? 0 : (double)PagesFree / PagesTotal;

    /// <summary>The status of a silo without an engine.</summary>
    public static GpuSiloStatus Gateway(SiloAddress silo, long sequence) =>
        new() { Silo = silo, Sequence = sequence, Timestamp = DateTimeOffset.UtcNow, Device = "none (gateway)" };
}
