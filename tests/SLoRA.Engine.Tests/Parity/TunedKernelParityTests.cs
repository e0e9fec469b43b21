using SLoRA.Engine.Execution;
using SLoRA.Engine.Runtime;
using SLoRA.Parity;
using Xunit.Abstractions;

namespace SLoRA.Engine.Tests.Parity;

/// <summary>
/// The forward pass with the GPU-tuned kernels against Hugging Face transformers, on the CPU
/// accelerator with warps of 8 (llama-tied's head_dim 32: 4 dimensions per lane). One prompt
/// only: the tuned kernels cost ~10-20 ms a launch there.
/// </summary>
public sealed class TunedKernelParityTests(ITestOutputHelper output)
{
    [Fact]
    public void Tuned_kernel_logits_match_transformers_within_fp16_tolerance()
    {
        var result = LogitParity.Run("llama-tied", AcceleratorPreference.Cpu,
            LogitParity.RunnerOptions with { Kernels = KernelVariant.Tuned }, cpuWarpSize: 8, maxPrompts: 1);
        output.WriteLine(result.ToString());
        Assert.True(result.Positions > 0);
        Assert.True(result.MaxAbsDiff <= result.Tolerance, $"max |Δlogit| {result.MaxAbsDiff} > tolerance {result.Tolerance}");
        Assert.Equal(0, result.PagesLeaked);
    }
}
