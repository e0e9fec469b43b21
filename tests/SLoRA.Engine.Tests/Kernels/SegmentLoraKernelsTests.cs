using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>
/// The prefill LoRA kernels over token tiles against the double references of
/// <see cref="LoraTestCase"/>, on fresh random inputs every run (the seed is in every message),
/// on the CPU accelerator with warps of 4 or 8 threads (groups of 16 or 32 threads, so a shrink
/// group covers one or two rank rows and an expand group 16 or 32 columns).
/// </summary>
public sealed class SegmentLoraKernelsTests(WarpDevices devices) : IClassFixture<WarpDevices>
{
    // Ranks by [slot][layer][module] as LoraTestCase's default table (slot 1 empty, a rank-0
    // module in every group of layer 1), but ranks 33–70 in slot 3: more than one staged rank
    // chunk of either expand (32 rows, 64 rows) and many shrink row blocks, ending mid-block.
    private static readonly int[][][] s_ranks =
    [
        [[2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2]],
        [],
        [[5, 5, 5, 5, 5, 5, 5], [5, 0, 5, 0, 5, 0, 5]],
        [[8, 8, 8, 8, 8, 8, 8], [70, 3, 33, 6, 36, 1, 0]],
    ];

    // A step of prefill sequences and two decode tokens, which no tile covers (other kernels
    // serve them): their rows must stay as they are. Tile lengths of every remainder mod 4 (the
    // expand takes four tokens per pass), each next to tokens a spill would change.
    //   tokens  0..19  slot 3 (20 tokens: a full tile and 4)
    //   tokens 20..22  base model
    //   tokens 23..29  slot 2 (7)
    //   tokens 30, 31  decode tokens of slots 0 and 3, outside the tiles
    //   tokens 32..48  slot 0 (17 tokens: a full tile and 1)
    //   tokens 49, 50  slot 2 (2)
    //   tokens 51..56  slot 3 (6: tiles of 5 and 1, as a scheduler may cut them)
    private static readonly int[] s_slotOfToken =
    [
        .. Enumerable.Repeat(3, 20), -1, -1, -1, .. Enumerable.Repeat(2, 7), 0, 3, .. Enumerable.Repeat(0, 17), 2, 2,
        .. Enumerable.Repeat(3, 6),
    ];

    // Out of order: a tile's place in the buffer must not matter.
    private static readonly TokenTile[] s_tiles =
        [new(48, 1), new(23, 7), new(0, 16), new(56, 1), new(20, 3), new(49, 2), new(16, 4), new(51, 5), new(32, 16)];

    // (group, first module, modules, warp, packing, slice elements). Packing "tensor cores": warps
    // of 32 and widths of multiples of 64, so the tensor-core kernels serve them (hidden 128 is
    // two shrink chunks of 64, for two of a group's four warps; the mma runs through shuffles on
    // the CPU). Packing "packed": widths of
    // multiples of 8 and matrices starting on multiples of 8, as AdapterCache lays them (16-byte
    // loads); "unaligned": odd widths, starts anywhere (scalar loads); "odd widths": aligned
    // starts but odd widths (scalar loads all the same). The hidden size, 136 or 138, is more
    // than one shrink chunk (128). Slices of 20 and 24 make rows cross pages; a slice of 8 puts
    // every 16-byte load on its own page, one of 3 every few elements.
    public static TheoryData<string, int, int, int, string, int> Cases => new()
    {
        { "qkv", 0, 3, 4, "unaligned", 20 },
        { "o", 3, 1, 4, "unaligned", 20 },
        { "gate_up", 4, 2, 4, "unaligned", 20 },
        { "down", 6, 1, 4, "unaligned", 20 },
        { "qkv", 0, 3, 8, "packed", 24 },
        { "o", 3, 1, 8, "packed", 24 },
        { "gate_up", 4, 2, 8, "packed", 24 },
        { "down", 6, 1, 8, "packed", 24 },
        { "qkv", 0, 3, 4, "packed", 8 },
        { "down", 6, 1, 4, "packed", 8 },
        { "qkv", 0, 3, 8, "unaligned", 3 },
        { "gate_up", 4, 2, 4, "odd widths", 24 },
        { "qkv", 0, 3, 32, "tensor cores", 24 },
        { "o", 3, 1, 32, "tensor cores", 24 },
        { "gate_up", 4, 2, 32, "tensor cores", 8 },
        { "down", 6, 1, 32, "tensor cores", 40 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Shrink_then_expand_over_tiles_adds_each_tokens_own_adapter_terms_and_leaves_other_tokens_alone(
        string name, int module0, int count, int warpSize, string packing, int sliceElements)
    {
        var device = devices.Get(warpSize);
        Assert.True(device.Segment.Supports);
        int seed = FreshSeed();
        var dims = packing switch
        {
            "packed" => new LoraDims(Hidden: 136, QDim: 24, KvDim: 8, Intermediate: 48, sliceElements),
            "tensor cores" => new LoraDims(Hidden: 128, QDim: 64, KvDim: 64, Intermediate: 192, sliceElements),
            _ => new LoraDims(Hidden: 138, QDim: 18, KvDim: 6, Intermediate: 42, sliceElements),
        };
        var testCase = new LoraTestCase(new Random(seed), dims, module0, count, s_slotOfToken, s_ranks, aligned: packing != "unaligned");
        var layout = new LoraLayout(LoraTestCase.NumLayers, sliceElements, LoraTestCase.ModulesPerLayer, 1, alignedStarts: packing != "unaligned");
        Assert.Equal(packing == "tensor cores", device.Segment.UsesTensorCores(layout, testCase.Group));
        var (y, shrunk) = testCase.Run(device.Accelerator, s_tiles, Launch(device));
        testCase.Verify(y, shrunk, $"{Context(device, seed)}, {name}, {packing}", Launched(s_tiles));
    }

    [Fact]
    public void Tensor_cores_serve_warps_of_32_and_widths_of_multiples_of_64_unless_turned_off()
    {
        var layout = new LoraLayout(LoraTestCase.NumLayers, 24, LoraTestCase.ModulesPerLayer, 1, alignedStarts: true);
        var qkv = new LoraGroup(0, 3, 128, 128, 64, 64, 256);
        var warp32 = devices.Get(32);
        Assert.True(warp32.Segment.TensorCores);
        Assert.True(warp32.Segment.UsesTensorCores(layout, qkv));
        Assert.False(warp32.Segment.UsesTensorCores(layout, new LoraGroup(0, 3, 136, 128, 64, 64, 256)));
        Assert.False(warp32.Segment.UsesTensorCores(layout, new LoraGroup(0, 3, 128, 128, 72, 64, 264)));
        Assert.False(warp32.Segment.UsesTensorCores(new LoraLayout(LoraTestCase.NumLayers, 24, LoraTestCase.ModulesPerLayer, 1), qkv));
        Assert.False(new SegmentLoraKernels(warp32.Accelerator, tensorCores: false).UsesTensorCores(layout, qkv));
        Assert.False(devices.Get(8).Segment.UsesTensorCores(layout, qkv));
    }

    [Fact]
    public void Tiles_of_only_base_model_tokens_write_nothing()
    {
        var device = devices.Get(4);
        int seed = FreshSeed();
        var dims = new LoraDims(Hidden: 136, QDim: 24, KvDim: 8, Intermediate: 48, SliceElements: 24);
        var testCase = new LoraTestCase(new Random(seed), dims, 0, 3, [.. Enumerable.Repeat(-1, 20)], s_ranks, aligned: true);
        TokenTile[] tiles = [new(0, 16), new(16, 4)];
        var (y, shrunk) = testCase.Run(device.Accelerator, tiles, Launch(device));
        // Verify checks that the whole scratch stays poisoned and y keeps the base output.
        testCase.Verify(y, shrunk, Context(device, seed), Launched(tiles));
    }

    [Fact]
    public void Supports_groups_of_a_multiple_of_the_tile_but_not_the_engines_one_warp_cpu_groups()
    {
        Assert.True(devices.Get(4).Segment.Supports);
        Assert.True(devices.Get(8).Segment.Supports);
        // ComputeDevice's CPU device: groups of one warp of 4 threads, fewer than a tile's tokens.
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu, cpuWarpSize: 4);
        Assert.False(new SegmentLoraKernels(device.Accelerator).Supports);
    }

    private static LoraTileLaunch Launch(WarpDevice device) => (stream, tiles, numTiles, args, layout, group, x, y, layer, maxRank) =>
    {
        device.Segment.Shrink(stream, tiles, numTiles, args, layout, group, x, layer, maxRank);
        device.Segment.Expand(stream, tiles, numTiles, args, layout, group, y, layer, maxRank);
    };

    private static HashSet<int> Launched(TokenTile[] tiles) =>
        [.. tiles.SelectMany(tile => Enumerable.Range(tile.First, tile.Count))];

    private static string Context(WarpDevice device, int seed) => $"segment, warp {device.WarpSize}, seed {seed}";
}
