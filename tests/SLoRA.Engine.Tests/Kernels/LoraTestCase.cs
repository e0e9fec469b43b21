using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>A LoRA launch (shrink then expand): same contract as <see cref="LoraKernels.Apply"/>.</summary>
internal delegate void LoraLaunch(AcceleratorStream stream, int numTokens, LoraArgs args, LoraLayout layout, LoraGroup group,
    ArrayView<Half> x, ArrayView<float> y, int layer, int maxRank);

/// <summary>A LoRA launch over token tiles (shrink then expand): the contract of <see cref="SegmentLoraKernels"/>.</summary>
internal delegate void LoraTileLaunch(AcceleratorStream stream, ArrayView<TokenTile> tiles, int numTiles, LoraArgs args, LoraLayout layout,
    LoraGroup group, ArrayView<Half> x, ArrayView<float> y, int layer, int maxRank);

/// <summary>
/// Model widths of a LoRA test and the pool's slice size. A slice smaller than the rows, and not
/// a divisor of any row length, makes rows straddle page boundaries.
/// </summary>
internal sealed record LoraDims(int Hidden, int QDim, int KvDim, int Intermediate, int SliceElements)
{
    /// <summary>In features by module id: q, k, v, o, gate, up, down.</summary>
    public int In(int module) => module switch { 3 => QDim, 6 => Intermediate, _ => Hidden };

    /// <summary>Out features by module id: q, k, v, o, gate, up, down.</summary>
    public int Out(int module) => module switch { 0 => QDim, 1 or 2 => KvDim, 4 or 5 => Intermediate, _ => Hidden };
}

/// <summary>
/// Random adapters of ranks 1 to 8 (and per-module ranks; or a table of the test's own)
/// scattered over non-contiguous pool pages, as the documented layout says: layer l's flat run
/// (A [rank, in] rows, then Bᵀ [rank, out] rows, module after module) spread over the layer-l
/// slices of the adapter's pages. The case packs the pool itself, in a random module order with
/// NaN gaps between matrices, so the kernels may rely on nothing but the entries; an aligned case
/// starts every matrix on a multiple of 8 elements, as PackedAdapter does, and says so in the
/// layout. Checks y and the shrink scratch in double.
/// </summary>
internal sealed class LoraTestCase
{
    public const int NumLayers = 2, Layer = 1, ModulesPerLayer = 7, NumSlots = 4;
    // Output rows are wider than the group's outputs: the padding columns must stay untouched
    // (8 in an aligned case, so rows stay 8-aligned).
    private readonly int _padding;

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

    private readonly LoraDims _dims;
    private readonly int[][][] _ranks;
    private readonly int _maxRank;
    private readonly bool _aligned;
    private readonly LoraGroup _group;
    private readonly int[] _slotOfToken;
    private readonly Adapters _adapters;
    private readonly Half[] _x;
    private readonly float[] _y;

    /// <summary>
    /// A case of <paramref name="slotOfToken"/>.Length tokens (x [tokens, in]) through the group of
    /// <paramref name="count"/> modules from <paramref name="module0"/>. <paramref name="ranks"/>
    /// (by [slot][layer][module], same slots and layers) replaces the default rank table;
    /// <paramref name="aligned"/> starts every matrix on a multiple of 8 elements and sets the
    /// layout's AlignedStarts.
    /// </summary>
    public LoraTestCase(Random rng, LoraDims dims, int module0, int count, int[] slotOfToken, int[][][]? ranks = null, bool aligned = false)
    {
        _dims = dims;
        _ranks = ranks ?? s_ranks;
        _maxRank = _ranks.Max(slot => slot.Length == 0 ? 0 : slot.Max(layer => layer.Max()));
        _aligned = aligned;
        _padding = aligned ? 8 : 3;
        int[] outs = [0, 0, 0];
        for (int g = 0; g < count; g++)
            outs[g] = dims.Out(module0 + g);
        _group = new LoraGroup(module0, count, dims.In(module0), outs[0], outs[1], outs[2], outs.Sum() + _padding);
        _slotOfToken = slotOfToken;
        _adapters = new Adapters(rng, dims, _ranks, aligned);
        int numTokens = slotOfToken.Length;
        _x = Halves(rng, (long)numTokens * _group.InFeatures);
        // y holds the base projection's output: random where the group writes, NaN in the padding.
        _y = new float[(long)numTokens * _group.OutputStride];
        for (int m = 0; m < numTokens; m++)
        {
            Floats(rng, _group.OutWidth).CopyTo(_y, (long)m * _group.OutputStride);
            Array.Fill(_y, float.NaN, m * _group.OutputStride + _group.OutWidth, _padding);
        }
    }

    /// <summary>The group the case launches (its widths and output stride).</summary>
    public LoraGroup Group => _group;

    /// <summary>Runs <paramref name="launch"/> on the group in layer <see cref="Layer"/>; returns y and the shrink scratch.</summary>
    public (float[] Y, float[] Shrunk) Run(Accelerator acc, LoraLaunch launch) =>
        Run(acc, (stream, args, layout, x, y) => launch(stream, _slotOfToken.Length, args, layout, _group, x, y, Layer, _maxRank));

    /// <summary>
    /// Runs <paramref name="launch"/> over <paramref name="tiles"/> on the group in layer
    /// <see cref="Layer"/>; returns y and the shrink scratch. Past the launched tiles the buffer
    /// holds one more, over the first tokens again: a kernel reading it would add their terms twice.
    /// </summary>
    public (float[] Y, float[] Shrunk) Run(Accelerator acc, TokenTile[] tiles, LoraTileLaunch launch)
    {
        var spare = new TokenTile(0, Math.Min(SegmentLoraKernels.TileTokens, _slotOfToken.Length));
        using var dTiles = acc.Allocate1D([.. tiles, spare]);
        return Run(acc, (stream, args, layout, x, y) => launch(stream, dTiles.View, tiles.Length, args, layout, _group, x, y, Layer, _maxRank));
    }

    private (float[] Y, float[] Shrunk) Run(Accelerator acc, Action<AcceleratorStream, LoraArgs, LoraLayout, ArrayView<Half>, ArrayView<float>> launch)
    {
        using var dPool = acc.Allocate1D(_adapters.Pool);
        using var dPageLists = acc.Allocate1D(_adapters.PageLists);
        using var dEntries = acc.Allocate1D(_adapters.Entries);
        using var dSlots = acc.Allocate1D(_slotOfToken);
        // The scratch is poisoned: an expand reading a value the shrink did not write turns NaN.
        using var dShrunk = acc.Allocate1D(PoisonedFloats((long)_slotOfToken.Length * 3 * _maxRank));
        using var dX = acc.Allocate1D(_x);
        using var dY = acc.Allocate1D(_y);
        var args = new LoraArgs(dPool.View, dPageLists.View, dEntries.View, dSlots.View, dShrunk.View);
        var layout = new LoraLayout(NumLayers, _dims.SliceElements, ModulesPerLayer, _adapters.MaxPagesPerAdapter, _aligned);
        launch(acc.DefaultStream, args, layout, dX.View, dY.View);
        acc.Synchronize();
        return (dY.GetAsArray1D(), dShrunk.GetAsArray1D());
    }

    /// <summary>
    /// Checks y = base + each token's own adapter terms (base tokens, unadapted modules and the
    /// padding untouched), and that the scratch holds x·A[j] exactly where a shrink must write.
    /// Tokens outside <paramref name="launched"/> (when given) must be left alone like base tokens.
    /// </summary>
    public void Verify(float[] actualY, float[] actualShrunk, string context, IReadOnlySet<int>? launched = null)
    {
        string Label() => $"{context}, group {_group.Module0}+{_group.Count} (in {_group.InFeatures}, slice {_dims.SliceElements}{(_aligned ? ", aligned" : "")})";
        int SlotOf(int m) => launched is null || launched.Contains(m) ? _slotOfToken[m] : -1;
        for (int m = 0; m < _slotOfToken.Length; m++)
        {
            int slot = SlotOf(m);
            int col = 0;
            for (int g = 0; g < _group.Count; g++)
            {
                int module = _group.Module0 + g;
                var data = Module(slot, module);
                for (int o = 0; o < _dims.Out(module); o++, col++)
                {
                    long at = (long)m * _group.OutputStride + col;
                    string Where() => $"{Label()}: token {m} (slot {slot}), module {module} (rank {data?.Rank ?? 0}), output {o}";
                    if (data is null)
                    {
                        // Base token or unadapted module: the base output, bit for bit.
                        Assert.True(_y[at] == actualY[at], $"{Where()}: must be untouched, base {_y[at]:R} became {actualY[at]:R}");
                        continue;
                    }
                    var (delta, magnitude) = Delta(data, m, module, o);
                    // fp32 sums of exact fp16 products: error ≲ (in + rank) · 2^-24 · Σ|terms|;
                    // allow 1e-4 relative to Σ|terms| (including the base value).
                    AssertNear(_y[at] + delta, actualY[at], abs: 1e-4 * (magnitude + Math.Abs(_y[at])), rel: 0, Where);
                }
            }
            for (int p = 0; p < _padding; p++)
                AssertUntouched(actualY[(long)m * _group.OutputStride + _group.OutWidth + p], () => $"{Label()}: token {m}, padding column {p}");
        }

        // Scratch [token, group module, rank row]: written for the adapted modules' rank rows only.
        for (long i = 0; i < actualShrunk.Length; i++)
        {
            int j = (int)(i % _maxRank);
            long rest = i / _maxRank;
            int g = (int)(rest % _group.Count);
            int m = (int)(rest / _group.Count);
            var data = m < _slotOfToken.Length ? Module(SlotOf(m), _group.Module0 + g) : null;
            string Where() => $"{Label()}: scratch of token {m}, module {_group.Module0 + g} (rank {data?.Rank ?? 0}), row {j}";
            if (data is null || j >= data.Rank)
            {
                AssertUntouched(actualShrunk[i], Where);
                continue;
            }
            var (s, magnitude) = Shrunk(data, m, _group.Module0 + g, j);
            AssertNear(s, actualShrunk[i], abs: 1e-5 * magnitude, rel: 0, Where);
        }
    }

    private sealed record ModuleData(int Rank, float Scaling, Half[] A, Half[] B);

    /// <summary>The adapter data of a token's module, or null for a base token or an unadapted module.</summary>
    private ModuleData? Module(int slot, int module) => slot < 0 ? null : _adapters.Modules[slot][Layer][module];

    /// <summary>x[m] · A[j] in double, and the sum of the terms' magnitudes.</summary>
    private (double Value, double Magnitude) Shrunk(ModuleData d, int m, int module, int j)
    {
        int inFeatures = _dims.In(module);
        double s = 0, magnitude = 0;
        for (int k = 0; k < inFeatures; k++)
        {
            double term = (double)(float)_x[(long)m * inFeatures + k] * (float)d.A[j * inFeatures + k];
            s += term;
            magnitude += Math.Abs(term);
        }
        return (s, magnitude);
    }

    /// <summary>scaling · Σ_j (x[m]·A[j]) · B[o, j], in double, and the sum of the terms' magnitudes.</summary>
    private (double Delta, double Magnitude) Delta(ModuleData d, int m, int module, int o)
    {
        double delta = 0, magnitude = 0;
        for (int j = 0; j < d.Rank; j++)
        {
            var (s, sAbs) = Shrunk(d, m, module, j);
            double b = (float)d.B[o * d.Rank + j];
            delta += s * b;
            magnitude += sAbs * Math.Abs(b);
        }
        return (d.Scaling * delta, Math.Abs(d.Scaling) * magnitude);
    }

    /// <summary>The adapters of a rank table with random weights, packed into a pool of scattered pages.</summary>
    private sealed class Adapters
    {
        private readonly LoraDims _dims;
        private readonly int[][][] _ranks;
        private readonly bool _aligned;

        public Adapters(Random rng, LoraDims dims, int[][][] ranks, bool aligned)
        {
            _dims = dims;
            _ranks = ranks;
            _aligned = aligned;
            int slice = dims.SliceElements;
            var flats = new Half[NumSlots][][];
            var pageCounts = new int[NumSlots];
            for (int slot = 0; slot < NumSlots; slot++)
            {
                Modules[slot] = new ModuleData?[NumLayers][];
                flats[slot] = new Half[NumLayers][];
                for (int l = 0; l < NumLayers; l++)
                {
                    Modules[slot][l] = new ModuleData?[ModulesPerLayer];
                    if (_ranks[slot].Length == 0)
                        continue;
                    flats[slot][l] = PackLayer(rng, slot, l);
                    pageCounts[slot] = Math.Max(pageCounts[slot], (flats[slot][l].Length + slice - 1) / slice);
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
            Pool = PoisonedHalves((long)numPages * NumLayers * slice);
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
                        int page = PageLists[slot * MaxPagesPerAdapter + e / slice];
                        Pool[((long)page * NumLayers + l) * slice + e % slice] = flat![e];
                    }
                }
            }
        }

        public ModuleData?[][][] Modules { get; } = new ModuleData?[NumSlots][][];
        public LoraModuleEntry[] Entries { get; } = new LoraModuleEntry[NumSlots * NumLayers * ModulesPerLayer];
        public Half[] Pool { get; }
        public int[] PageLists { get; }
        public int MaxPagesPerAdapter { get; }

        /// <summary>
        /// One layer's flat run: modules in random order, NaN gaps of 0–4 elements around every
        /// matrix (aligned: up to the next multiple of 8, then 0, 8 or 16 more).
        /// </summary>
        private Half[] PackLayer(Random rng, int slot, int layer)
        {
            var flat = new List<Half>();
            void Gap() => flat.AddRange(PoisonedHalves(_aligned ? (8 - flat.Count % 8) % 8 + 8 * rng.Next(3) : rng.Next(5)));
            Gap();
            foreach (int module in Permutation(rng, ModulesPerLayer))
            {
                int rank = _ranks[slot][layer][module];
                int entry = (slot * NumLayers + layer) * ModulesPerLayer + module;
                if (rank == 0)
                {
                    // Starts that point at other data: an unadapted module must not be read at all.
                    Entries[entry] = new LoraModuleEntry(0, flat.Count, flat.Count, 1f);
                    continue;
                }
                int inF = _dims.In(module), outF = _dims.Out(module);
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
