using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>
/// The GPU-tuned kernels (warp per row, shuffle reductions) against the same double references
/// as the portable kernels, on fresh random inputs every run (the seed is in every message), on
/// the CPU accelerator with warps of 4 or 8 threads, so lane striding and shuffles really split
/// the work. Shapes are small and launches few: grouped kernels cost ~10-20 ms a launch there.
/// </summary>
public sealed class TunedKernelsTests(WarpDevices devices) : IClassFixture<WarpDevices>
{
    [Theory]
    // 5 rows: the second group of 4 warps has idle warps. hidden not a multiple of the warp.
    [InlineData(4, 42)]
    [InlineData(8, 21)]
    public void RmsNorm_normalizes_the_mapped_rows_in_map_order(int warpSize, int hidden)
    {
        var device = devices.Get(warpSize);
        int seed = FreshSeed();
        // As the final norm on the logit rows: a subset of the rows, out of order, one repeated.
        var testCase = new RmsNormTestCase(new Random(seed), sourceRows: 9, rowMap: [8, 2, 5, 2, 0], hidden);
        var actual = testCase.Run(device.Accelerator, device.Tuned.RmsNorm);
        testCase.Verify(actual, Context(device, seed));
    }

    // (heads, kv heads, head_dim, warp): GQA and MHA, head_dim = warp × 2 and warp × 4.
    public static TheoryData<int, int, int, int> AttentionShapes => new()
    {
        { 4, 2, 8, 4 },
        { 4, 4, 8, 4 },
        { 4, 2, 16, 4 },
        { 4, 4, 16, 4 },
        { 4, 2, 32, 8 },
    };

    [Theory]
    [MemberData(nameof(AttentionShapes))]
    public void Attention_prefill_of_sequences_of_different_lengths_in_one_launch_is_causal(int numHeads, int numKvHeads, int headDim, int warpSize) =>
        CheckAttention(numHeads, numKvHeads, headDim, warpSize, [new(0, 5), new(0, 1), new(0, 9), new(0, 3)]);

    [Theory]
    [MemberData(nameof(AttentionShapes))]
    public void Attention_decode_tokens_attend_to_the_cache_written_before(int numHeads, int numKvHeads, int headDim, int warpSize) =>
        CheckAttention(numHeads, numKvHeads, headDim, warpSize, [new(16, 1), new(0, 1), new(6, 1), new(31, 1)]);

    [Theory]
    [InlineData(4, 4, true)]
    [InlineData(4, 8, true)]
    [InlineData(4, 16, true)]
    [InlineData(4, 32, true)]
    [InlineData(4, 10, false)]
    [InlineData(4, 6, false)]
    [InlineData(4, 36, false)] // 9 dimensions per lane: more than the kernel holds
    [InlineData(8, 32, true)]
    [InlineData(8, 12, false)]
    public void Attention_supports_head_dims_that_are_small_multiples_of_the_warp(int warpSize, int headDim, bool supported) =>
        Assert.Equal(supported, devices.Get(warpSize).Tuned.SupportsHeadDim(headDim));

    [Fact]
    public void ArgMax_gives_each_rows_first_largest_logit_and_its_log_probability()
    {
        var device = devices.Get(4);
        int ws = device.WarpSize;
        int seed = FreshSeed();
        var rng = new Random(seed);
        // The largest logit at two indices, i < j, for every pair of lanes (i in lane a, j in lane
        // b): the lowest index must win whichever lane holds it, within a lane and across the
        // shuffles. Then both ends (lane 0 reads one element more than the others at vocab 37, not
        // a multiple of the warp), the last index alone, and two rows of random logits only.
        const int vocab = 37;
        var maxAt = new List<int[]>();
        for (int a = 0; a < ws; a++)
        {
            for (int b = 0; b < ws; b++)
                maxAt.Add([a + ws * rng.Next(0, 4), b + ws * rng.Next(5, 8)]);
        }
        maxAt.Add([0, vocab - 1]);
        maxAt.Add([vocab - 1]);
        int rows = maxAt.Count + 2;
        var logits = Floats(rng, rows * vocab, scale: 8f);
        for (int r = 0; r < maxAt.Count; r++)
        {
            var row = logits.AsSpan(r * vocab, vocab);
            float top = row.ToArray().Max() + 0.5f + rng.NextSingle();
            foreach (int v in maxAt[r])
                row[v] = top;
        }
        const int untouchedToken = -7;

        var acc = device.Accelerator;
        using var dLogits = acc.Allocate1D(logits);
        using var dTokens = acc.Allocate1D(Enumerable.Repeat(untouchedToken, rows + 1).ToArray());
        using var dLogprobs = acc.Allocate1D(PoisonedFloats(rows + 1));
        device.Tuned.ArgMax(acc.DefaultStream, rows, dLogits.View, vocab, dTokens.View, dLogprobs.View);
        acc.Synchronize();
        var tokens = dTokens.GetAsArray1D();
        var logprobs = dLogprobs.GetAsArray1D();

        string context = Context(device, seed);
        for (int r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * vocab, vocab);
            var (token, logprob) = ArgMaxReference(row);
            if (r < maxAt.Count)
                Assert.Equal(maxAt[r][0], token); // the inputs are what the comment above says
            Assert.True(token == tokens[r], $"{context}: row {r}: argmax {tokens[r]}, expected {token} (logits {string.Join(", ", row.ToArray())})");
            // fp32 sum of 37 exponentials ≤ 1 and one log: error ~1e-6.
            AssertNear(logprob, logprobs[r], abs: 1e-5, rel: 1e-6, () => $"{context}: row {r}: log-probability of token {token}");
        }
        Assert.True(tokens[rows] == untouchedToken, $"{context}: the spare token must not be written, holds {tokens[rows]}");
        AssertUntouched(logprobs[rows], () => $"{context}: spare log-probability");
    }

    [Fact]
    public void Tuned_kernels_launch_on_the_engines_cpu_device()
    {
        // The device the runner gets for KernelVariant.Tuned on the CPU (the tests above use
        // their own, see WarpDevices): one launch of the tuned RMSNorm must run and be right.
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu, cpuWarpSize: 4);
        int seed = FreshSeed();
        var testCase = new RmsNormTestCase(new Random(seed), sourceRows: 3, rowMap: [2, 0], hidden: 10);
        var actual = testCase.Run(device.Accelerator, new TunedKernels(device.Accelerator).RmsNorm);
        testCase.Verify(actual, $"tuned on ComputeDevice, warp 4, seed {seed}");
    }

    [Theory]
    [InlineData(4, 2, 8, 4, 1)]
    [InlineData(4, 2, 8, 4, 3)]
    [InlineData(4, 4, 16, 4, 2)]
    [InlineData(4, 2, 32, 8, 5)]
    [InlineData(4, 2, 32, 4, 1)]
    [InlineData(2, 1, 64, 8, 3)]
    public void Flash_decoding_attention_matches_the_reference_for_any_split_count(int numHeads, int numKvHeads, int headDim, int warpSize, int splits)
    {
        var device = devices.Get(warpSize);
        int seed = FreshSeed();
        // Decode tokens with caches of several lengths, and a short prefill: splits past a token's
        // last key are empty and must not disturb the merge.
        var testCase = new AttentionTestCase(new Random(seed), numHeads, numKvHeads, headDim,
            [new(16, 1), new(0, 1), new(6, 1), new(37, 1), new(0, 4)]);
        var shape = new AttentionShape(numHeads, numKvHeads, headDim, AttentionTestCase.NumLayers);
        Assert.True(device.Flash.Supports(shape));
        int items = 8 * numHeads * splits;
        using var acc = device.Accelerator.Allocate1D<float>((long)items * headDim);
        using var max = device.Accelerator.Allocate1D<float>(items);
        using var sum = device.Accelerator.Allocate1D<float>(items);
        var scratch = new FlashScratch(acc.View, max.View, sum.View);
        // The token list in reverse order: the kernel must find each token through it.
        var list = Enumerable.Range(0, testCase.NumTokens).Reverse().ToArray();
        using var tokenList = device.Accelerator.Allocate1D(list);
        var actual = testCase.Run(device.Accelerator, (stream, numTokens, args, s, layer) =>
            device.Flash.Launch(stream, tokenList.View, numTokens, 38, args, scratch, 64, s, layer, splits));
        testCase.Verify(actual, Context(device, seed) + $", {splits} splits");
    }

    private void CheckAttention(int numHeads, int numKvHeads, int headDim, int warpSize, AttentionSeq[] seqs)
    {
        var device = devices.Get(warpSize);
        Assert.True(device.Tuned.SupportsHeadDim(headDim));
        int seed = FreshSeed();
        var testCase = new AttentionTestCase(new Random(seed), numHeads, numKvHeads, headDim, seqs);
        var actual = testCase.Run(device.Accelerator, device.Tuned.Attention);
        testCase.Verify(actual, Context(device, seed));
    }

    /// <summary>The first largest logit (as torch.argmax) and log-softmax at it, in double.</summary>
    private static (int Token, double Logprob) ArgMaxReference(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int v = 1; v < row.Length; v++)
        {
            if (row[v] > row[best])
                best = v;
        }
        double sum = 0;
        foreach (float x in row)
            sum += Math.Exp((double)x - row[best]);
        return (best, -Math.Log(sum));
    }

    private static string Context(WarpDevice device, int seed) => $"tuned, warp {device.WarpSize}, seed {seed}";
}
