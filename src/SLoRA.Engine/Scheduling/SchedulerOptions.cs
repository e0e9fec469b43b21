namespace SLoRA.Engine.Scheduling;

/// <summary>Limits of one step.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Most tokens (prefill and decode together) one step computes.</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>Most sequences in one step.</summary>
    public int MaxBatchSequences { get; init; } = 64;
}
