using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>
/// Shrink/expand against a plain reference, with adapters of ranks 2, 5 and 8 (and per-module
/// ranks) scattered over non-contiguous pool pages, as the documented layout says: layer l's
/// flat run (A [rank, in] rows, then Bᵀ [rank, out] rows, module after module) spread over the
/// layer-l slices of the adapter's pages. The tests pack the pool themselves, in a random module
/// order with NaN gaps between matrices, so the kernels may rely on nothing but the entries.
/// </summary>
public sealed class LoraKernelsTests
{
    private const int NumLayers = 2, Layer = 1, ModulesPerLayer = 7, NumSlots = 4;
    // Not a divisor of any row length, so rows straddle page boundaries.
    private const int SliceElements = 20;
    private const int Hidden = 24, QDim = 16, KvDim = 8, Intermediate = 40;
    // Output rows are wider than the group's outputs: the padding columns must stay untouched.
    private const int StridePadding = 3;

    // In and out features by module id: q, k, v, o, gate, up, down.
    private static readonly int[] s_in = [Hidden, Hidden, Hidden, QDim, Hidden, Hidden, Intermediate];
    private static readonly int[] s_out = [QDim, KvDim, KvDim, Hidden, Intermediate, Intermediate, Hidden];

    // Ranks by [slot][layer][module]. Slot 1 holds no adapter. Rank 0 is a module the adapter
    // does not adapt: in the tested layer 1, slot 2 leaves k, o and up alone and slot 3 leaves
    // down alone, so every group has one; layer 0 adapts them all, so reading it would show.
    private static readonly int[][][] s_ranks =
    [
        [[2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2]],
        [],
        [[5, 5, 5, 5, 5, 5, 5], [5, 0, 5, 0, 5, 0, 5]],
        [[8, 8, 8, 8, 8, 8, 8], [8, 3, 8, 6, 8, 1, 0]],
    ];

    // The groups the runner launches: q/k/v, o, gate/up, down (1, 2 and 3 modules).
    public static TheoryData<string, int, int> Groups => new()
    {
        { "qkv", 0, 3 },
        { "o", 3, 1 },
        { "gate_up", 4, 2 },
        { "down", 6, 1 },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public void Adds_each_tokens_own_adapter_terms_and_leaves_base_tokens_and_unadapted_modules_alone(string name, int module0, int count)
    {
        // Base-model tokens (-1) between tokens of three adapters of different ranks.
        int[] slotOfToken = [3, -1, 0, 2, 2, 3, -1, 0, 3, -1, 2, 3, 0];
        Check(new Random(name.Length * 31 + module0), Group(module0, count), slotOfToken);
    }

    [Fact]
    public void A_batch_of_only_base_model_tokens_writes_nothing()
    {
        var shrunk = Check(new Random(5), Group(0, 3), [-1, -1, -1]);
        for (int i = 0; i < shrunk.Length; i++)
            AssertUntouched(shrunk[i], () => $"scratch element {i}");
    }

    private static LoraGroup Group(int module0, int count)
    {
        int[] outs = [0, 0, 0];
        for (int g = 0; g < count; g++)
            outs[g] = s_out[module0 + g];
        return new LoraGroup(module0, count, s_in[module0], outs[0], outs[1], outs[2], outs.Sum() + StridePadding);
    }

    private sealed record ModuleData(int Rank, float Scaling, Half[] A, Half[] B);

    /// <summary>Runs <see cref="LoraKernels.Apply"/> on <paramref name="group"/> in layer 1, checks y, and returns the scratch.</summary>
    private static float[] Check(Random rng, LoraGroup group, int[] slotOfToken)
    {
        var adapters = new Adapters(rng);
        int numTokens = slotOfToken.Length;
        int maxRank = s_ranks.Max(slot => slot.Length == 0 ? 0 : slot.Max(layer => layer.Max()));

        var x = Halves(rng, (long)numTokens * group.InFeatures);
        // y holds the base projection's output: random where the group writes, NaN in the padding.
        var y = new float[(long)numTokens * group.OutputStride];
        for (int m = 0; m < numTokens; m++)
        {
            Floats(rng, group.OutWidth).CopyTo(y, (long)m * group.OutputStride);
            Array.Fill(y, float.NaN, m * group.OutputStride + group.OutWidth, StridePadding);
        }
        // The scratch is poisoned: an expand reading a value the shrink did not write turns NaN.
        var shrunk = PoisonedFloats((long)numTokens * 3 * maxRank);

        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var dPool = acc.Allocate1D(adapters.Pool);
        using var dPageLists = acc.Allocate1D(adapters.PageLists);
        using var dEntries = acc.Allocate1D(adapters.Entries);
        using var dSlots = acc.Allocate1D(slotOfToken);
        using var dShrunk = acc.Allocate1D(shrunk);
        using var dX = acc.Allocate1D(x);
        using var dY = acc.Allocate1D(y);
        var args = new LoraArgs(dPool.View, dPageLists.View, dEntries.View, dSlots.View, dShrunk.View);
        var layout = new LoraLayout(NumLayers, SliceElements, ModulesPerLayer, adapters.MaxPagesPerAdapter);
        new LoraKernels(acc).Apply(acc.DefaultStream, numTokens, args, layout, group, dX.View, dY.View, Layer, maxRank);
        acc.Synchronize();
        var actual = dY.GetAsArray1D();

        for (int m = 0; m < numTokens; m++)
        {
            int slot = slotOfToken[m];
            int col = 0;
            for (int g = 0; g < group.Count; g++)
            {
                int module = group.Module0 + g;
                var data = slot < 0 ? null : adapters.Modules[slot][Layer][module];
                for (int o = 0; o < s_out[module]; o++, col++)
                {
                    long at = (long)m * group.OutputStride + col;
                    string Where() => $"group {group.Module0}+{group.Count}: token {m} (slot {slot}), module {module} (rank {data?.Rank ?? 0}), output {o}";
                    if (data is null || data.Rank == 0)
                    {
                        // Base token or unadapted module: the base output, bit for bit.
                        Assert.True(y[at] == actual[at], $"{Where()}: must be untouched, base {y[at]:R} became {actual[at]:R}");
                        continue;
                    }
                    var (delta, magnitude) = Delta(data, x, m * group.InFeatures, s_in[module], s_out[module], o);
                    // fp32 sums of exact fp16 products: error ≲ (in + rank) · 2^-24 · Σ|terms|;
                    // allow 1e-4 relative to Σ|terms| (including the base value).
                    AssertNear(y[at] + delta, actual[at], abs: 1e-4 * (magnitude + Math.Abs(y[at])), rel: 0, Where);
                }
            }
            for (int p = 0; p < StridePadding; p++)
                AssertUntouched(actual[(long)m * group.OutputStride + group.OutWidth + p], () => $"token {m}, padding column {p}");
        }
        return dShrunk.GetAsArray1D();
    }

    /// <summary>scaling · Σ_j (x·A[j]) · B[o, j], in double, and the sum of the terms' magnitudes.</summary>
    private static (double Delta, double Magnitude) Delta(ModuleData d, Half[] x, int xRow, int inFeatures, int outFeatures, int o)
    {
        double delta = 0, magnitude = 0;
        for (int j = 0; j < d.Rank; j++)
        {
            double s = 0, sAbs = 0;
            for (int k = 0; k < inFeatures; k++)
            {
                double term = (double)(float)x[xRow + k] * (float)d.A[j * inFeatures + k];
                s += term;
                sAbs += Math.Abs(term);
            }
            double b = (float)d.B[o * d.Rank + j];
            delta += s * b;
            magnitude += sAbs * Math.Abs(b);
        }
        return (d.Scaling * delta, Math.Abs(d.Scaling) * magnitude);
    }

    /// <summary>The adapters of <see cref="s_ranks"/> with random weights, packed into a pool of scattered pages.</summary>
    private sealed class Adapters
    {
        public Adapters(Random rng)
        {
            var flats = new Half[NumSlots][][];
            var pageCounts = new int[NumSlots];
            for (int slot = 0; slot < NumSlots; slot++)
            {
                Modules[slot] = new ModuleData?[NumLayers][];
                flats[slot] = new Half[NumLayers][];
                for (int l = 0; l < NumLayers; l++)
                {
                    Modules[slot][l] = new ModuleData?[ModulesPerLayer];
                    if (s_ranks[slot].Length == 0)
                        continue;
                    flats[slot][l] = PackLayer(rng, slot, l);
                    pageCounts[slot] = Math.Max(pageCounts[slot], (flats[slot][l].Length + SliceElements - 1) / SliceElements);
                }
            }

            // Pages from a random permutation of the pool: each adapter's pages are scattered and
            // out of order. One trap page of NaN fills the unused page-list entries.
            int usedPages = pageCounts.Sum();
            int numPages = usedPages + 4;
            var order = Permutation(rng, numPages);
            int trapPage = order[usedPages];
            MaxPagesPerAdapter = pageCounts.Max() + 2;
            PageLists = Enumerable.Repeat(trapPage, NumSlots * MaxPagesPerAdapter).ToArray();
            Pool = PoisonedHalves((long)numPages * NumLayers * SliceElements);
            int next = 0;
            for (int slot = 0; slot < NumSlots; slot++)
            {
                for (int p = 0; p < pageCounts[slot]; p++)
                    PageLists[slot * MaxPagesPerAdapter + p] = order[next++];
                for (int l = 0; l < NumLayers; l++)
                {
                    var flat = flats[slot][l];
                    for (int e = 0; e < (flat?.Length ?? 0); e++)
                    {
                        int page = PageLists[slot * MaxPagesPerAdapter + e / SliceElements];
                        Pool[((long)page * NumLayers + l) * SliceElements + e % SliceElements] = flat![e];
                    }
                }
            }
        }

        public ModuleData?[][][] Modules { get; } = new ModuleData?[NumSlots][][];
        public LoraModuleEntry[] Entries { get; } = new LoraModuleEntry[NumSlots * NumLayers * ModulesPerLayer];
        public Half[] Pool { get; }
        public int[] PageLists { get; }
        public int MaxPagesPerAdapter { get; }

        /// <summary>One layer's flat run: modules in random order, NaN gaps of 0–4 elements around every matrix.</summary>
        private Half[] PackLayer(Random rng, int slot, int layer)
        {
            var flat = new List<Half>();
            void Gap() => flat.AddRange(PoisonedHalves(rng.Next(5)));
            Gap();
            foreach (int module in Permutation(rng, ModulesPerLayer))
            {
                int rank = s_ranks[slot][layer][module];
                int entry = (slot * NumLayers + layer) * ModulesPerLayer + module;
                if (rank == 0)
                {
                    // Starts that point at other data: an unadapted module must not be read at all.
                    Entries[entry] = new LoraModuleEntry(0, flat.Count, flat.Count, 1f);
                    continue;
                }
                int inF = s_in[module], outF = s_out[module];
                var data = new ModuleData(rank, 0.5f + 1.5f * rng.NextSingle(), Halves(rng, rank * inF), Halves(rng, outF * rank));
                Modules[slot][layer][module] = data;
                int aStart = flat.Count;
                flat.AddRange(data.A);
                Gap();
                int bStart = flat.Count;
                // B is [out, rank] (PEFT's lora_B); the pool holds Bᵀ [rank, out].
                for (int j = 0; j < rank; j++)
                {
                    for (int o = 0; o < outF; o++)
                        flat.Add(data.B[o * rank + j]);
                }
                Gap();
                Entries[entry] = new LoraModuleEntry(rank, aStart, bStart, data.Scaling);
            }
            return [.. flat];
        }
    }
}
