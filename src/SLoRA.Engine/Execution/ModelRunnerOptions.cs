namespace SLoRA.Engine.Execution;

/// <summary>Which kernel family the forward pass uses.</summary>
public enum KernelVariant
{
    /// <summary>GPU-tuned (warp per row) on CUDA, portable (thread per row) on the CPU accelerator.</summary>
    Auto,
    /// <summary>One thread per output row or element: fast on ILGPU's CPU accelerator, correct everywhere.</summary>
    Portable,
    /// <summary>Warp per row with shuffles: for GPUs (slow on the CPU accelerator, but correct).</summary>
    Tuned,
}

/// <summary>Sizes of the runner's device buffers.</summary>
public sealed record ModelRunnerOptions
{
    /// <summary>Most tokens one step computes (prefill segments plus decode tokens).</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>Most rows of logits one step returns.</summary>
    public int MaxLogitRows { get; init; } = 256;

    /// <summary>Pages in the unified pool; 0 sizes it from <see cref="PoolMemoryFraction"/> of the device memory left after weights and scratch.</summary>
    public int NumPages { get; init; }

    /// <summary>Share of the free device memory the pool takes when <see cref="NumPages"/> is 0.</summary>
    public double PoolMemoryFraction { get; init; } = 0.85;

    /// <summary>Largest LoRA rank an adapter may have (sizes the adapter tables and LoRA scratch).</summary>
    public int MaxLoraRank { get; init; } = 64;

    /// <summary>Most adapters resident on the device at once (table slots).</summary>
    public int MaxResidentAdapters { get; init; } = 128;

    /// <summary>
    /// Host memory that registered adapters keep page-locked from registration on, so that loading
    /// one onto the device is a copy alone (locking a 32 MB adapter costs milliseconds, more than
    /// its copy); adapters past it are locked only while resident. Null: a quarter of the memory
    /// available to the process.
    /// </summary>
    public long? PinnedAdapterBytes { get; init; }

    /// <summary><see cref="PinnedAdapterBytes"/>, or its default.</summary>
    internal long PinnedAdapterBudget => PinnedAdapterBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>Kernel family; Auto picks by accelerator.</summary>
    public KernelVariant Kernels { get; init; } = KernelVariant.Auto;

    /// <summary>
    /// On the GPU-tuned path, run each LoRA shrink on a second stream beside its group's base GEMM
    /// (joined by CUDA events) instead of after it. On by default; off to measure what it gains.
    /// </summary>
    public bool OverlapLoraShrink { get; init; } = true;

    /// <summary>
    /// On the GPU-tuned path, compute the prefill LoRA (MBGMM over 16-token tiles) on the tensor
    /// cores (mma.sync through inline PTX) where the shapes allow. On by default; off keeps the
    /// fp32 kernels, to measure what the tensor cores gain.
    /// </summary>
    public bool TensorCoreLora { get; init; } = true;

    /// <summary>Time each phase of the forward pass (synchronizing after each; for benchmarks, not serving).</summary>
    public bool Profile { get; init; }

    /// <summary>Throws when a size is out of range.</summary>
    public void Validate()
    {
        if (MaxBatchTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchTokens), MaxBatchTokens, "must be at least 1");
        if (MaxLogitRows < 1 || MaxLogitRows > MaxBatchTokens)
            throw new ArgumentOutOfRangeException(nameof(MaxLogitRows), MaxLogitRows, "must be in [1, MaxBatchTokens]");
        if (MaxLoraRank < 1) throw new ArgumentOutOfRangeException(nameof(MaxLoraRank), MaxLoraRank, "must be at least 1");
        if (MaxResidentAdapters < 1) throw new ArgumentOutOfRangeException(nameof(MaxResidentAdapters), MaxResidentAdapters, "must be at least 1");
        if (PinnedAdapterBytes < 0) throw new ArgumentOutOfRangeException(nameof(PinnedAdapterBytes), PinnedAdapterBytes, "must not be negative");
        if (NumPages < 0) throw new ArgumentOutOfRangeException(nameof(NumPages), NumPages, "must not be negative");
        if (PoolMemoryFraction is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(PoolMemoryFraction), PoolMemoryFraction, "must be in (0, 1]");
    }
}
