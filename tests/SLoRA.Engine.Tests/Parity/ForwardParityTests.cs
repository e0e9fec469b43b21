using SLoRA.Engine.Runtime;
using SLoRA.Parity;
using Xunit.Abstractions;

namespace SLoRA.Engine.Tests.Parity;

/// <summary>
/// The forward pass and generation against Hugging Face transformers (fixtures from
/// tools/make_fixtures.py), on the CPU accelerator. The same checks run on CUDA through the
/// SLoRA.Parity console (docs/PARITY.md).
/// </summary>
public sealed class ForwardParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("llama-gqa")]
    [InlineData("llama-tied")]
    public void Logits_match_transformers_within_fp16_tolerance(string model)
    {
        var result = LogitParity.Run(model, AcceleratorPreference.Cpu);
        output.WriteLine(result.ToString());
        Assert.True(result.Positions > 0);
        Assert.True(result.MaxAbsDiff <= result.Tolerance, $"max |Δlogit| {result.MaxAbsDiff} > tolerance {result.Tolerance}");
        Assert.Equal(0, result.PagesLeaked);
    }

    [Theory]
    [InlineData("llama-gqa")]
    [InlineData("llama-tied")]
    public async Task Greedy_tokens_are_identical_to_transformers(string model)
    {
        var result = await GreedyParity.RunAsync(model, AcceleratorPreference.Cpu);
        output.WriteLine(result.ToString());
        Assert.True(result.Prompts > 0);
        Assert.True(result.Passed, result.FirstMismatch);
    }
}

/// <summary>Heterogeneous multi-LoRA batches against PEFT (each adapter alone), on the CPU accelerator.</summary>
public sealed class LoraParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("llama-gqa", 4)]
    [InlineData("llama-tied", 1)]
    public async Task Mixed_adapter_batch_gives_every_request_PEFTs_tokens(string model, int adapters)
    {
        var result = await LoraParity.RunAsync(model, AcceleratorPreference.Cpu);
        output.WriteLine(result.ToString());
        Assert.True(result.Requests > 0);
        Assert.True(result.MaxAdaptersInOneStep >= adapters, $"the batches should mix all {adapters} adapters (and the base model)");
        Assert.True(result.Passed, result.FirstMismatch);
    }
}

/// <summary>The mixed multi-LoRA check with the GPU-tuned kernels (vectorized LoRA shrink, device argmax), on the CPU accelerator.</summary>
public sealed class TunedLoraParityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Tuned_kernels_give_every_adapter_PEFTs_tokens()
    {
        var result = await LoraParity.RunAsync("llama-gqa", AcceleratorPreference.Cpu, Engine.Execution.KernelVariant.Tuned, maxPrompts: 2);
        output.WriteLine(result.ToString());
        Assert.True(result.Requests >= 10);
        Assert.True(result.Passed, result.FirstMismatch);
    }

    [Fact]
    public async Task With_16_lane_warps_prefill_tiles_go_through_the_tile_kernels_and_every_adapter_gets_PEFTs_tokens()
    {
        // Groups of 16 threads let every kernel of the GPU path run on the CPU: flash-decoding and
        // MBGMV for decode tokens, the tiled prefill attention and MBGMM for prompt tiles.
        var result = await LoraParity.RunAsync("llama-gqa", AcceleratorPreference.Cpu, Engine.Execution.KernelVariant.Tuned, maxPrompts: 1, cpuWarpSize: 16);
        output.WriteLine(result.ToString());
        Assert.Contains("prefill tiles", result.Kernels);
        Assert.Contains("MBGMM tiles", result.Kernels);
        Assert.True(result.Requests >= 5);
        Assert.True(result.Passed, result.FirstMismatch);
    }
}
