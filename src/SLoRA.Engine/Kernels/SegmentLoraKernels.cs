using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// S-LoRA's MBGMM for prefill: the LoRA shrink and expand over <see cref="TokenTile"/>s, runs of
/// up to <see cref="TileTokens"/> consecutive tokens of one sequence (so of one adapter). The
/// per-token kernels
/// (<see cref="MbgmvKernels.LoraShrink(AcceleratorStream, ArrayView{int}, int, LoraArgs, LoraLayout, LoraGroup, ArrayView{Half}, int, int)"/>,
/// <see cref="LoraKernels.Expand(AcceleratorStream, int, LoraArgs, LoraLayout, LoraGroup, ArrayView{float}, int, int)"/>) re-read A and Bᵀ for every token; here a group stages a chunk of A or Bᵀ in shared memory once
/// and uses each element for every token of the tile, a small GEMM per (tile, module, block).
/// Same values and scratch layout as the per-token kernels; no warp primitives, so any warp size.
/// </summary>
/// <remarks>
/// Shrink: one group per (tile, module g, block of <c>threads / TileTokens</c> rank rows). Per
/// chunk of <see cref="KChunk"/> input features, the group stages the tile's x rows and its rank
/// rows of A (fp32, 16-byte loads when aligned); thread (t, r) then sums x[t]·A[r] over the chunk
/// from shared memory: one accumulator per thread, no reduction.
/// Expand: one group per (tile, module g, block of <c>threads</c> output columns). Per chunk of
/// <see cref="RankChunk"/> rank rows, the group stages the tile's s[t, j] and the block of those
/// Bᵀ rows; thread c then accumulates column c for four tokens at a time and adds them to y (once
/// per chunk: a rank above <see cref="RankChunk"/> adds in several steps).
/// Launch requirements: <see cref="Supports"/> (groups of a multiple of <see cref="TileTokens"/>
/// threads, at most <see cref="MaxGroupThreads"/>); every tile 1 ≤ Count ≤ <see cref="TileTokens"/>
/// tokens of one slot (its first token's slot is taken for all); maxRank at least every entry's
/// rank, as for the per-token kernels, but otherwise unbounded (both kernels chunk the rank).
/// </remarks>
internal sealed class SegmentLoraKernels
{
    /// <summary>
    /// Most tokens in a tile. 16 lets a group of 128 threads cover a tile × 8 rank rows in the
    /// shrink with one accumulator each, reads A and Bᵀ once per 16 tokens (16× less than per
    /// token, enough that the kernels stop being bound by re-reads), and keeps the staged x rows
    /// at 8 KiB; longer tiles would leave more groups idle at the short end of segments.
    /// </summary>
    public const int TileTokens = 16;

    /// <summary>Threads per group on a GPU (4 warps of 32); the shared buffers are sized for it.</summary>
    public const int MaxGroupThreads = 128;

    /// <summary>Input features staged per shrink step: x tile 16 × 129 + A 8 × 129 floats (12 KiB).</summary>
    public const int KChunk = 128;

    /// <summary>Rank rows staged per expand step: s 16 × 32 + Bᵀ 32 × 128 floats (18 KiB).</summary>
    public const int RankChunk = 32;

    private const int WarpsPerGroup = 4;
    // Padded row of the staged chunks: the 16 threads of a rank row read 16 different x rows at
    // the same k, which a stride of 128 floats would put in one bank.
    private const int KStride = KChunk + 1;
    private const int MaxRowsPerGroup = MaxGroupThreads / TileTokens;
    private const int TokensPerStep = 4;

    private readonly int _threads;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int, int, int> _shrink;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int, int> _expand;

    public SegmentLoraKernels(Accelerator accelerator)
    {
        int ws = accelerator.WarpSize;
        int warps = Math.Max(1, Math.Min(WarpsPerGroup, Math.Min(accelerator.MaxNumThreadsPerGroup, MaxGroupThreads) / ws));
        _threads = warps * ws;
        _shrink = accelerator.LoadKernel<ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int, int, int>(ShrinkKernel);
        _expand = accelerator.LoadKernel<ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int, int>(ExpandKernel);
    }

    /// <summary>
    /// Whether the device can run the kernels: a group of a multiple of <see cref="TileTokens"/>
    /// threads, at most <see cref="MaxGroupThreads"/> (every GPU; not ILGPU's CPU device of one
    /// small warp per group).
    /// </summary>
    public bool Supports => _threads % TileTokens == 0 && _threads <= MaxGroupThreads;

    /// <summary>
    /// s[m, g, j] = x[m] · A_g[j] for every token m of the first <paramref name="numTiles"/>
    /// tiles: the same values, at the same places of <see cref="LoraArgs.Shrunk"/>, as
    /// <see cref="MbgmvKernels.LoraShrink(AcceleratorStream, ArrayView{int}, int, LoraArgs, LoraLayout, LoraGroup, ArrayView{Half}, int, int)"/>.
    /// Nothing is written for base-model tiles, unadapted modules or tokens outside the tiles.
    /// </summary>
    public void Shrink(AcceleratorStream stream, ArrayView<TokenTile> tiles, int numTiles, LoraArgs args, LoraLayout layout,
        LoraGroup group, ArrayView<Half> x, int layer, int maxRank)
    {
        if (numTiles == 0 || maxRank == 0)
            return;
        int rows = _threads / TileTokens;
        int rowBlocks = (maxRank + rows - 1) / rows;
        // 16-byte loads need 8-aligned rows, as in MbgmvKernels.LoraShrink.
        int vectorized = group.InFeatures % 8 == 0 && layout.SliceElements % 8 == 0 && layout.AlignedStarts == 1 ? 1 : 0;
        _shrink(stream, new KernelConfig(numTiles * group.Count * rowBlocks, _threads), tiles, args, layout, group, x, layer, maxRank,
            rowBlocks, vectorized);
    }

    /// <summary>
    /// y[m, col] += scaling_g · Σ_j s[m, g, j] · Bᵀ_g[j, o] for every token m of the first
    /// <paramref name="numTiles"/> tiles, from the scratch a shrink wrote; the rows of other
    /// tokens, base-model tiles and unadapted modules are left untouched.
    /// </summary>
    public void Expand(AcceleratorStream stream, ArrayView<TokenTile> tiles, int numTiles, LoraArgs args, LoraLayout layout,
        LoraGroup group, ArrayView<float> y, int layer, int maxRank)
    {
        if (numTiles == 0 || maxRank == 0)
            return;
        int blocks = ColumnBlocks(group.Out0, _threads) + ColumnBlocks(group.Out1, _threads) + ColumnBlocks(group.Out2, _threads);
        // 16-byte loads of Bᵀ rows: every module's width a multiple of 8 (the column blocks are,
        // being multiples of 16), as are the slices and the matrix starts.
        int vectorized = group.Out0 % 8 == 0 && group.Out1 % 8 == 0 && group.Out2 % 8 == 0
            && layout.SliceElements % 8 == 0 && layout.AlignedStarts == 1 ? 1 : 0;
        _expand(stream, new KernelConfig(numTiles * blocks, _threads), tiles, args, layout, group, y, layer, maxRank, vectorized);
    }

    private static int ColumnBlocks(int width, int threads) => (width + threads - 1) / threads;

    /// <summary>Pool offset of element <paramref name="e"/> of an adapter's layer data, in int arithmetic (a layer's run is far below 2³¹).</summary>
    private static long PoolOffset(LoraArgs a, LoraLayout layout, int slot, int layer, int e)
    {
        int slice = layout.SliceElements;
        int pageIndex = e / slice;
        return layout.SliceBase(a.PageLists, slot, layer, pageIndex) + (e - pageIndex * slice);
    }

    private static void Store(ArrayView<float> to, int at, Half8 h)
    {
        to[at] = h.F0;
        to[at + 1] = h.F1;
        to[at + 2] = h.F2;
        to[at + 3] = h.F3;
        to[at + 4] = h.F4;
        to[at + 5] = h.F5;
        to[at + 6] = h.F6;
        to[at + 7] = h.F7;
    }

    internal static void ShrinkKernel(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<Half> x,
        int layer, int maxRank, int rowBlocks, int vectorized)
    {
        var xs = SharedMemory.Allocate<float>(TileTokens * KStride);
        var aS = SharedMemory.Allocate<float>(MaxRowsPerGroup * KStride);
        int block = Grid.IdxX % rowBlocks;
        int rest = Grid.IdxX / rowBlocks;
        int g = rest % group.Count;
        var tile = tiles[rest / group.Count];
        // The whole group leaves together (before any barrier): the tile's adapter is one.
        int slot = a.SlotOfToken[tile.First];
        if (slot < 0)
            return;
        var e = a.Entries[layout.EntryIndex(slot, layer, group.Module0 + g)];
        int rows = Group.DimX / TileTokens;
        int j0 = block * rows;
        if (j0 >= e.Rank)
            return;

        int n = group.InFeatures;
        int tid = Group.IdxX;
        int t = tid % TileTokens;
        int r = tid / TileTokens;
        float sum = 0f;
        for (int k0 = 0; k0 < n; k0 += KChunk)
        {
            // Stage x[tile, k0..] and A[j0.., k0..]; zeros past the tile, the rank and the row,
            // so the products below need no bounds.
            if (vectorized == 1)
            {
                var x8 = x.Cast<Half8>();
                var pool8 = a.Pool.Cast<Half8>();
                const int chunk8 = KChunk / 8;
                for (int v = tid; v < TileTokens * chunk8; v += Group.DimX)
                {
                    int tt = v / chunk8;
                    int k = 8 * (v - tt * chunk8);
                    var h = default(Half8);
                    if (tt < tile.Count && k0 + k < n)
                        h = x8[((long)(tile.First + tt) * n + k0 + k) / 8];
                    Store(xs, tt * KStride + k, h);
                }
                // Each Half8 lies in one page: 8-aligned element, slices of a multiple of 8.
                for (int v = tid; v < rows * chunk8; v += Group.DimX)
                {
                    int rr = v / chunk8;
                    int k = 8 * (v - rr * chunk8);
                    var h = default(Half8);
                    if (j0 + rr < e.Rank && k0 + k < n)
                        h = pool8[PoolOffset(a, layout, slot, layer, e.AStart + (j0 + rr) * n + k0 + k) / 8];
                    Store(aS, rr * KStride + k, h);
                }
            }
            else
            {
                for (int v = tid; v < TileTokens * KChunk; v += Group.DimX)
                {
                    int tt = v / KChunk;
                    int k = v - tt * KChunk;
                    xs[tt * KStride + k] = tt < tile.Count && k0 + k < n ? (float)x[(long)(tile.First + tt) * n + k0 + k] : 0f;
                }
                for (int v = tid; v < rows * KChunk; v += Group.DimX)
                {
                    int rr = v / KChunk;
                    int k = v - rr * KChunk;
                    aS[rr * KStride + k] = j0 + rr < e.Rank && k0 + k < n
                        ? (float)a.Pool[PoolOffset(a, layout, slot, layer, e.AStart + (j0 + rr) * n + k0 + k)]
                        : 0f;
                }
            }
            Group.Barrier();
            int width = Math.Min(KChunk, n - k0);
            for (int k = 0; k < width; k++)
                sum += xs[t * KStride + k] * aS[r * KStride + k];
            // The next chunk overwrites what the slower threads may still be reading.
            Group.Barrier();
        }
        int j = j0 + r;
        if (t < tile.Count && j < e.Rank)
            a.Shrunk[((long)(tile.First + t) * group.Count + g) * maxRank + j] = sum;
    }

    internal static void ExpandKernel(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<float> y,
        int layer, int maxRank, int vectorized)
    {
        var ss = SharedMemory.Allocate<float>(TileTokens * RankChunk);
        var bs = SharedMemory.Allocate<float>(RankChunk * MaxGroupThreads);
        int cols = Group.DimX;
        int blocks0 = ColumnBlocks(group.Out0, cols);
        int blocks1 = ColumnBlocks(group.Out1, cols);
        int perTile = blocks0 + blocks1 + ColumnBlocks(group.Out2, cols);
        var tile = tiles[Grid.IdxX / perTile];
        int block = Grid.IdxX % perTile;
        int g = 0;
        int colBase = 0;
        if (block >= blocks0)
        {
            block -= blocks0;
            g = 1;
            colBase = group.Out0;
            if (block >= blocks1)
            {
                block -= blocks1;
                g = 2;
                colBase += group.Out1;
            }
        }
        // Group-uniform exits, before any barrier.
        int slot = a.SlotOfToken[tile.First];
        if (slot < 0)
            return;
        var e = a.Entries[layout.EntryIndex(slot, layer, group.Module0 + g)];
        if (e.Rank == 0)
            return;

        int outFeatures = group.OutFeatures(g);
        int c = Group.IdxX;
        int o0 = block * cols;
        bool active = o0 + c < outFeatures;
        long yCol = colBase + o0 + c;
        for (int j0 = 0; j0 < e.Rank; j0 += RankChunk)
        {
            // Stage s[tile, j0..] and Bᵀ[j0.., o0..o0 + cols): zeros past the tile and the width,
            // so the products below need no bounds; Bᵀ rows past the rank are neither staged nor read.
            int rowsHere = Math.Min(RankChunk, e.Rank - j0);
            for (int v = c; v < TileTokens * RankChunk; v += cols)
            {
                int tt = v / RankChunk;
                int j = j0 + v - tt * RankChunk;
                ss[v] = tt < tile.Count && j < e.Rank ? a.Shrunk[((long)(tile.First + tt) * group.Count + g) * maxRank + j] : 0f;
            }
            if (vectorized == 1)
            {
                var pool8 = a.Pool.Cast<Half8>();
                int cols8 = cols / 8;
                for (int v = c; v < rowsHere * cols8; v += cols)
                {
                    int rr = v / cols8;
                    int cc = 8 * (v - rr * cols8);
                    var h = default(Half8);
                    if (o0 + cc < outFeatures)
                        h = pool8[PoolOffset(a, layout, slot, layer, e.BStart + (j0 + rr) * outFeatures + o0 + cc) / 8];
                    Store(bs, rr * cols + cc, h);
                }
            }
            else
            {
                for (int v = c; v < rowsHere * cols; v += cols)
                {
                    int rr = v / cols;
                    int cc = v - rr * cols;
                    bs[v] = o0 + cc < outFeatures
                        ? (float)a.Pool[PoolOffset(a, layout, slot, layer, e.BStart + (j0 + rr) * outFeatures + o0 + cc)]
                        : 0f;
                }
            }
            Group.Barrier();
            // Four tokens per pass: each Bᵀ value read from shared memory serves four products.
            for (int t0 = 0; t0 < tile.Count; t0 += TokensPerStep)
            {
                float acc0 = 0f, acc1 = 0f, acc2 = 0f, acc3 = 0f;
                int s0 = t0 * RankChunk;
                for (int rr = 0; rr < rowsHere; rr++)
                {
                    float b = bs[rr * cols + c];
                    acc0 += ss[s0 + rr] * b;
                    acc1 += ss[s0 + RankChunk + rr] * b;
                    acc2 += ss[s0 + 2 * RankChunk + rr] * b;
                    acc3 += ss[s0 + 3 * RankChunk + rr] * b;
                }
                if (active)
                {
                    long row = (long)(tile.First + t0) * group.OutputStride + yCol;
                    y[row] += e.Scaling * acc0;
                    if (t0 + 1 < tile.Count)
                        y[row + group.OutputStride] += e.Scaling * acc1;
                    if (t0 + 2 < tile.Count)
                        y[row + 2 * group.OutputStride] += e.Scaling * acc2;
                    if (t0 + 3 < tile.Count)
                        y[row + 3 * group.OutputStride] += e.Scaling * acc3;
                }
            }
            Group.Barrier();
        }
    }
}
