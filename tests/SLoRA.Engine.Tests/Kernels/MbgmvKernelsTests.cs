using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>
/// The decode LoRA kernels (MBGMV) against LoraTestCase's double reference, on fresh random
/// inputs every run (the seed is in every message), on CPU accelerators with warps of 2 to 32.
/// </summary>
public sealed class MbgmvKernelsTests(WarpDevices devices) : IClassFixture<WarpDevices>
{
    // (group, first module, modules, slice elements): in features 26, 18 and 42, none a multiple
    // of the warp; slices of 20 make the page walk cross 2–3 pages per row, and a slice of 3,
    // smaller than the warp, makes lane steps cross one page or skip a whole one.
    public static TheoryData<string, int, int, int> LoraGroups => new()
    {
        { "qkv", 0, 3, 20 },
        { "o", 3, 1, 20 },
        { "gate_up", 4, 2, 20 },
        { "down", 6, 1, 20 },
        { "qkv", 0, 3, 3 },
    };

    [Theory]
    [MemberData(nameof(LoraGroups))]
    public void LoraShrink_then_expand_adds_each_tokens_own_adapter_terms_and_leaves_base_tokens_and_unadapted_modules_alone(
        string name, int module0, int count, int sliceElements)
    {
        var device = devices.Get(4);
        int seed = FreshSeed();
        var dims = new LoraDims(Hidden: 26, QDim: 18, KvDim: 6, Intermediate: 42, sliceElements);
        // Base-model tokens (-1) between tokens of three adapters of different ranks.
        int[] slotOfToken = [3, -1, 0, 2, 2, 3, -1, 0, 3, -1, 2, 3, 0];
        var testCase = new LoraTestCase(new Random(seed), dims, module0, count, slotOfToken);
        var (y, shrunk) = testCase.Run(device.Accelerator, (stream, numTokens, args, layout, group, x, yView, layer, maxRank) =>
        {
            // As the runner does on a GPU (unaligned: the scalar shrink and the portable expand).
            Assert.False(MbgmvKernels.ExpandVectorizes(layout, group));
            using var all = device.Accelerator.Allocate1D(Enumerable.Range(0, numTokens).ToArray());
            device.Mbgmv.LoraShrink(stream, all.View, numTokens, args, layout, group, x, layer, maxRank);
            device.Lora.Expand(stream, numTokens, args, layout, group, yView, layer, maxRank);
            stream.Synchronize();
        });
        testCase.Verify(y, shrunk, $"{Context(device, seed)}, {name}");
    }

    // Aligned layouts (as PackedAdapter packs): in features 48, 32 and 64 (several 16-byte chunks
    // per lane, a tail iteration with fewer than eight), slices of 40 so rows straddle pages.
    public static TheoryData<string, int, int, int> AlignedLoraGroups => new()
    {
        { "qkv", 0, 3, 4 },
        { "o", 3, 1, 4 },
        { "gate_up", 4, 2, 8 },
        { "down", 6, 1, 2 },
        // Warps of 32 cover 64 columns: one warp spans q, k (unadapted by slot 2) and v.
        { "qkv", 0, 3, 32 },
        { "gate_up", 4, 2, 16 },
    };

    [Theory]
    [MemberData(nameof(AlignedLoraGroups))]
    public void Vectorized_LoraShrink_and_expand_match_the_reference_on_aligned_layouts(string name, int module0, int count, int warpSize)
    {
        var device = devices.Get(warpSize);
        int seed = FreshSeed();
        var dims = new LoraDims(Hidden: 48, QDim: 32, KvDim: 16, Intermediate: 64, SliceElements: 40);
        int[] slotOfToken = [3, -1, 0, 2, 2, 3, -1, 0, 3, -1, 2, 3, 0];
        var testCase = new LoraTestCase(new Random(seed), dims, module0, count, slotOfToken, aligned: true);
        // A token list in shuffled order that leaves tokens 4 and 7 out (as the runner leaves
        // prefill tokens to the tile kernels): those must stay untouched.
        var list = Enumerable.Range(0, slotOfToken.Length).Where(m => m is not (4 or 7)).OrderBy(_ => new Random(seed).Next()).ToArray();
        var (y, shrunk) = testCase.Run(device.Accelerator, (stream, numTokens, args, layout, group, x, yView, layer, maxRank) =>
        {
            Assert.True(MbgmvKernels.ExpandVectorizes(layout, group));
            using var tokens = device.Accelerator.Allocate1D(list);
            device.Mbgmv.LoraShrink(stream, tokens.View, list.Length, args, layout, group, x, layer, maxRank);
            device.Mbgmv.LoraExpand(stream, tokens.View, list.Length, args, layout, group, yView, layer, maxRank);
            stream.Synchronize();
        });
        testCase.Verify(y, shrunk, $"{Context(device, seed)}, {name}, aligned", launched: list.ToHashSet());
    }

    private static string Context(WarpDevice device, int seed) => $"mbgmv, warp {device.WarpSize}, seed {seed}";
}
