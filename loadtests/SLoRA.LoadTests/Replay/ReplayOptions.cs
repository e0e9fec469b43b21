namespace SLoRA.LoadTests.Replay;

/// <summary>How a trace is replayed.</summary>
public sealed record ReplayOptions
{
    /// <summary>Trace time runs this many times faster than the wall clock; +∞ sends everything at once.</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>First-token latency objective, in seconds; S-LoRA counts first tokens strictly within 6 s.</summary>
    public double SloSeconds { get; init; } = 6;

    /// <summary>How often the timeline is sampled (counters and the target's pages).</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often <see cref="OnProgress"/> is called.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Called with a progress line every <see cref="ProgressInterval"/>, from a pool thread.</summary>
    public Action<ReplayProgress>? OnProgress { get; init; }

    /// <summary>Longest wait for the target to drain its queues before the end snapshot is taken.</summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (!(TimeScale > 0))
            throw new ArgumentOutOfRangeException(nameof(TimeScale), TimeScale, "must be positive");
        if (!(SloSeconds > 0))
            throw new ArgumentOutOfRangeException(nameof(SloSeconds), SloSeconds, "must be positive");
        if (SampleInterval <= TimeSpan.Zero || ProgressInterval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(SampleInterval), "sample and progress intervals must be positive");
    }
}
