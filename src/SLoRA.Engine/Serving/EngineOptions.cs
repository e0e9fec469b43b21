using SLoRA.Engine.Execution;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Scheduling;

namespace SLoRA.Engine.Serving;

/// <summary>Everything the engine is configured with.</summary>
public sealed record EngineOptions
{
    /// <summary>Which accelerator to run on.</summary>
    public AcceleratorPreference Accelerator { get; init; } = AcceleratorPreference.Auto;

    /// <summary>CUDA device index (one engine owns one GPU).</summary>
    public int DeviceIndex { get; init; }

    /// <summary>
    /// Threads per warp of ILGPU's CPU accelerator (when the engine runs on the CPU). 2 keeps the
    /// portable kernels fast; tests of the GPU-tuned kernels use wider warps (16 lets the tile
    /// kernels of the prefill path run too).
    /// </summary>
    public int CpuWarpSize { get; init; } = 2;

    /// <summary>Device buffer sizes.</summary>
    public ModelRunnerOptions Runner { get; init; } = new();

    /// <summary>Step limits.</summary>
    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Most requests waiting for admission; beyond it submissions are refused as overload.</summary>
    public int MaxWaitingRequests { get; init; } = 1024;
}
