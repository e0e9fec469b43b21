namespace SLoRA.Engine.Scheduling;

/// <summary>How waiting requests are ordered for admission when several adapters compete.</summary>
public enum FairnessPolicy
{
    /// <summary>First come, first served.</summary>
    None,
    /// <summary>
    /// Virtual token counters (Sheng et al., "Fairness in Serving Large Language Models", 2024):
    /// each adapter's counter grows with the tokens served to it, and the adapter with the
    /// smallest counter is admitted next, so a flood on one adapter cannot starve the others.
    /// </summary>
    VirtualTokenCounter,
}

/// <summary>Limits of one step and the scheduling policies, each switchable.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Most tokens (prefill and decode together) one step computes.</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>Most running sequences.</summary>
    public int MaxBatchSequences { get; init; } = 64;

    /// <summary>Adapter clustering: most distinct adapters among running sequences; 0 for no cap. Base-model requests do not count.</summary>
    public int MaxAdaptersPerBatch { get; init; }

    /// <summary>Adapter clustering: admit requests whose adapter is already in the batch or on the device first.</summary>
    public bool PreferResidentAdapters { get; init; } = true;

    /// <summary>A request waiting longer than this is not overtaken by the resident-adapter preference (seconds).</summary>
    public double MaxPreferenceDelaySeconds { get; init; } = 2.0;

    /// <summary>Early abort: drop waiting requests that can no longer meet their first-token deadline.</summary>
    public bool EarlyAbort { get; init; } = true;

    /// <summary>Fairness between adapters.</summary>
    public FairnessPolicy Fairness { get; init; } = FairnessPolicy.None;

    /// <summary>Virtual-token-counter weight of a prompt token.</summary>
    public double InputTokenWeight { get; init; } = 1.0;

    /// <summary>Virtual-token-counter weight of a generated token.</summary>
    public double OutputTokenWeight { get; init; } = 2.0;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (MaxBatchTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchTokens), MaxBatchTokens, "must be at least 1");
        if (MaxBatchSequences < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchSequences), MaxBatchSequences, "must be at least 1");
        if (MaxAdaptersPerBatch < 0) throw new ArgumentOutOfRangeException(nameof(MaxAdaptersPerBatch), MaxAdaptersPerBatch, "must not be negative");
    }
}
