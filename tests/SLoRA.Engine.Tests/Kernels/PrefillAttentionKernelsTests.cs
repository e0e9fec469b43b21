using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>
/// The tiled prefill attention against the same double reference as the other attention kernels,
/// on fresh random inputs every run (the seed is in every message), on the CPU accelerator with
/// warps of 4, 8 or 32 threads in groups of 4 warps. Sequences are prefill segments starting at
/// position 0 or after cached keys, cut into tiles of random sizes 1..TileTokens and launched in
/// random order; tokens of sequences left out of the tiles must keep their poisoned output rows.
/// </summary>
public sealed class PrefillAttentionKernelsTests(WarpDevices devices) : IClassFixture<WarpDevices>
{
    // (heads, kv heads, head_dim, warp): GQA and MHA; head_dim below, equal to and above the
    // warp, up to the largest the kernel holds.
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        { 4, 2, 8, 4 },
        { 4, 4, 16, 4 },
        { 4, 1, 32, 8 },
        { 2, 2, 8, 8 },
        { 4, 2, 64, 8 },
        { 2, 1, 128, 8 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Prefill_tiles_of_fresh_and_continued_segments_match_the_reference_and_leave_other_tokens_alone(
        int numHeads, int numKvHeads, int headDim, int warpSize)
    {
        // Segments of 1, 5, 16 and 23 new tokens, from position 0 and after 12, 37 or 45 cached
        // keys (the last block of keys then is partial; 45 + 23 spans three blocks); the decode
        // token and the 6-token segment are not tiled, so their rows must stay poisoned.
        AttentionSeq[] seqs = [new(0, 23), new(12, 5), new(7, 1), new(0, 1), new(37, 16), new(0, 6), new(45, 23), new(3, 1)];
        bool[] tiled = [true, true, false, true, true, false, true, true];
        Check(numHeads, numKvHeads, headDim, warpSize, seqs, tiled, fullTiles: false);
    }

    [Theory]
    [InlineData(4, 2, 16, 4)]
    [InlineData(4, 2, 32, 8)]
    public void Prefill_in_full_tiles_matches_the_reference(int numHeads, int numKvHeads, int headDim, int warpSize)
    {
        // As the runner cuts segments: TileTokens per tile, the remainder last; 33 = 2 full + 1.
        AttentionSeq[] seqs = [new(0, 33), new(20, 16), new(5, 40)];
        Check(numHeads, numKvHeads, headDim, warpSize, seqs, tiled: [true, true, true], fullTiles: true);
    }

    [Theory]
    [InlineData(2, 1, 32)]
    [InlineData(4, 1, 8)] // head_dim below the warp: lanes past it idle while accumulating V
    [InlineData(2, 2, 128)]
    public void Prefill_with_warps_of_32_threads_matches_the_reference(int numHeads, int numKvHeads, int headDim)
    {
        // A CUDA-sized warp (lanes past a short block's keys idle); groups of 128 threads are
        // slow on the CPU device, so fewer tokens: a tile across a block edge, one after cache.
        AttentionSeq[] seqs = [new(25, 12), new(0, 3)];
        Check(numHeads, numKvHeads, headDim, warpSize: 32, seqs, tiled: [true, true], fullTiles: false);
    }

    [Fact]
    public void Prefill_attention_runs_in_groups_of_one_warp_on_the_engines_cpu_device()
    {
        // ComputeDevice's CPU device holds one warp per group: one warp then owns every query.
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu, cpuWarpSize: 4);
        var kernels = new PrefillAttentionKernels(device.Accelerator);
        int seed = FreshSeed();
        var rng = new Random(seed);
        AttentionSeq[] seqs = [new(0, 17), new(33, 4)];
        Run(device.Accelerator, kernels, rng, 4, 2, 16, seqs, [true, true], fullTiles: false,
            $"prefill on ComputeDevice, warp 4, seed {seed}");
    }

    [Theory]
    [InlineData(4, 8, true)]
    [InlineData(4, 16, true)]
    [InlineData(4, 128, true)]
    [InlineData(8, 24, true)] // any multiple of 8, not only powers of two
    [InlineData(4, 12, false)] // 16-byte loads need multiples of 8
    [InlineData(4, 136, false)] // more than the shared buffers hold
    [InlineData(4, 256, false)]
    public void Prefill_attention_supports_head_dims_that_are_multiples_of_8_up_to_128(int warpSize, int headDim, bool supported) =>
        Assert.Equal(supported, devices.Get(warpSize).Prefill.Supports(new AttentionShape(4, 2, headDim, AttentionTestCase.NumLayers)));

    private void Check(int numHeads, int numKvHeads, int headDim, int warpSize, AttentionSeq[] seqs, bool[] tiled, bool fullTiles)
    {
        var device = devices.Get(warpSize);
        int seed = FreshSeed();
        Run(device.Accelerator, device.Prefill, new Random(seed), numHeads, numKvHeads, headDim, seqs, tiled, fullTiles,
            $"prefill, warp {warpSize}, seed {seed}");
    }

    private static void Run(Accelerator acc, PrefillAttentionKernels kernels, Random rng, int numHeads, int numKvHeads,
        int headDim, AttentionSeq[] seqs, bool[] tiled, bool fullTiles, string context)
    {
        var shape = new AttentionShape(numHeads, numKvHeads, headDim, AttentionTestCase.NumLayers);
        Assert.True(kernels.Supports(shape), $"{context}: shape must be supported");
        var testCase = new AttentionTestCase(rng, numHeads, numKvHeads, headDim, seqs);

        // AttentionTestCase lays the tokens out sequence after sequence.
        var tiles = new List<TokenTile>();
        var written = new HashSet<int>();
        int token = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            int end = token + seqs[s].New;
            if (tiled[s])
            {
                for (int m = token; m < end; m++)
                    written.Add(m);
                while (token < end)
                {
                    int count = Math.Min(end - token, fullTiles ? PrefillAttentionKernels.TileTokens : rng.Next(1, PrefillAttentionKernels.TileTokens + 1));
                    tiles.Add(new TokenTile(token, count));
                    token += count;
                }
            }
            token = end;
        }
        // Tiles are independent: their order in the launch must not matter.
        var order = tiles.ToArray();
        if (!fullTiles)
            rng.Shuffle(order);

        using var dTiles = acc.Allocate1D(order);
        var actual = testCase.Run(acc, (stream, numTokens, args, s, layer) =>
            kernels.Launch(stream, dTiles.View, order.Length, args, s, layer));
        string tileList = string.Join(" ", order.Select(t => $"{t.First}+{t.Count}"));
        testCase.Verify(actual, $"{context}, tiles [{tileList}]", written.Contains);
    }
}
