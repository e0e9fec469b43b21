using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;

namespace SLoRA.Engine.Tests.Kernels;

public sealed class AttentionKernelTests
{
    [Theory]
    [InlineData(4, 2, 16)]
    [InlineData(4, 2, 32)]
    [InlineData(4, 4, 16)]
    [InlineData(4, 4, 32)]
    public void Prefill_of_sequences_of_different_lengths_in_one_launch_is_causal(int numHeads, int numKvHeads, int headDim) =>
        Check(numHeads, numKvHeads, headDim, seed: 1, [new(0, 5), new(0, 1), new(0, 9), new(0, 3)]);

    [Theory]
    [InlineData(4, 2, 16)]
    [InlineData(4, 2, 32)]
    [InlineData(4, 4, 16)]
    [InlineData(4, 4, 32)]
    public void Decode_tokens_attend_to_the_cache_written_before(int numHeads, int numKvHeads, int headDim) =>
        Check(numHeads, numKvHeads, headDim, seed: 2, [new(16, 1), new(0, 1), new(6, 1), new(31, 1)]);

    [Theory]
    [InlineData(4, 2, 16)]
    [InlineData(4, 4, 32)]
    public void A_mixed_batch_of_decode_and_chunked_prefill_attends_to_cache_and_chunk(int numHeads, int numKvHeads, int headDim) =>
        Check(numHeads, numKvHeads, headDim, seed: 3, [new(7, 1), new(0, 6), new(5, 4)]);

    private static void Check(int numHeads, int numKvHeads, int headDim, int seed, AttentionSeq[] seqs)
    {
        var rng = new Random(seed * 1000 + numHeads * 100 + numKvHeads * 10 + headDim);
        var testCase = new AttentionTestCase(rng, numHeads, numKvHeads, headDim, seqs);
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var actual = testCase.Run(device.Accelerator, new AttentionKernel(device.Accelerator).Launch);
        testCase.Verify(actual, "portable");
    }
}
