using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// S-LoRA's MBGMM for prefill: the LoRA shrink and expand over <see cref="TokenTile"/>s, runs of
/// up to <see cref="TileTokens"/> consecutive tokens of one sequence (so of one adapter). The
/// per-token kernels
/// (<see cref="MbgmvKernels.LoraShrink(AcceleratorStream, ArrayView{int}, int, LoraArgs, LoraLayout, LoraGroup, ArrayView{Half}, int, int)"/>,
/// <see cref="LoraKernels.Expand(AcceleratorStream, int, LoraArgs, LoraLayout, LoraGroup, ArrayView{float}, int, int)"/>) re-read A and Bᵀ
/// for every token; here each element of A or Bᵀ is loaded once per tile and used for every token
/// of it, a small GEMM per (tile, module, block). Same values and scratch layout as the per-token kernels.
/// </summary>
/// <remarks>
/// <para>
/// On 8-aligned layouts (as <c>PackedAdapter</c> packs them) the kernels are register-blocked:
/// a lane holds 4 tokens × 4 rank rows (shrink) or 4 tokens × 8 columns (expand) of the result
/// and reads A/Bᵀ with 16-byte loads, so one fp16 → fp32 conversion and one load serve four
/// tokens, and the inner loop makes no shared-memory round trip per product (the first,
/// shared-memory formulation below was bound by two shared loads per product: 298 µs for a
/// 64-tile q,k,v shrink on the H200; this one 64 µs, docs/PERF_NOTES.md §9–11).
/// Shrink: one group per (tile, module g, <see cref="BlockRows"/> rank rows); the group's warps
/// split the input features, a warp's lanes are 4 token groups × (warp size / 4) lanes over the
/// features; lanes sum their 4 tokens × 4 rows over their features, the warp reduces over its
/// feature lanes with shuffles and the group over its warps through shared memory.
/// Expand: one group per (tile, module g, block of columns); the group stages the tile's scratch
/// s (up to <see cref="StagedRankRows"/> rows at a time) in shared memory, four tokens per 16 bytes;
/// lanes are 4 token groups × (warp size / 4) column chunks of 8; each lane walks the rank four rows
/// at a time with 16-byte Bᵀ loads, 4 tokens × 8 columns of sums in registers, then adds them to y.
/// </para>
/// <para>
/// Other layouts take the shared-memory kernels (scalar loads): shrink groups per (tile, module,
/// <c>threads / TileTokens</c> rank rows) stage <see cref="KChunk"/> features of x and A and sum
/// from shared memory; expand groups per (tile, module, <c>threads</c> columns) stage
/// <see cref="RankChunk"/> rows of s and Bᵀ.
/// </para>
/// Launch requirements: <see cref="Supports"/> (groups of a multiple of <see cref="TileTokens"/>
/// threads, at most <see cref="MaxGroupThreads"/>; warps of a multiple of 4 threads); every tile
/// 1 ≤ Count ≤ <see cref="TileTokens"/> tokens of one slot (its first token's slot is taken for
/// all); maxRank at least every entry's rank, as for the per-token kernels, but otherwise unbounded.
/// </remarks>
internal sealed partial class SegmentLoraKernels
{
    /// <summary>
    /// Most tokens in a tile. 16 lets a group of 128 threads cover a tile × 8 rank rows in the
    /// staged shrink and a warp cover a tile as 4 lanes × 4 tokens in the blocked kernels, reads A
    /// and Bᵀ once per 16 tokens (16× less than per token, enough that the kernels stop being bound
    /// by re-reads); longer tiles would leave more groups idle at the short end of segments.
    /// </summary>
    public const int TileTokens = 16;

    /// <summary>Threads per group on a GPU (4 warps of 32); the shared buffers are sized for it.</summary>
    public const int MaxGroupThreads = 128;

    /// <summary>Input features staged per step of the shared-memory shrink: x tile 16 × 129 + A 8 × 129 floats (12 KiB).</summary>
    public const int KChunk = 128;

    /// <summary>Rank rows staged per step of the shared-memory expand: s 16 × 32 + Bᵀ 32 × 128 floats (18 KiB).</summary>
    public const int RankChunk = 32;

    /// <summary>
    /// Rank rows per group of the blocked shrink (a lane sums 4 tokens × 4 rows). With 8 rows a
    /// thread needed 130 registers on the H200, three groups per SM: too few warps to hide latency.
    /// </summary>
    public const int BlockRows = 4;

    /// <summary>Rank rows of the scratch the blocked expand stages in shared memory at a time (4 KiB; one step up to rank 64).</summary>
    public const int StagedRankRows = 64;

    /// <summary>Token groups of a warp in the blocked kernels: lane = token group × (warp size / 4) + feature or column lane.</summary>
    private const int TokenGroups = 4;
    private const int TokensPerLane = TileTokens / TokenGroups;

    // Most warps a group has (fewer where the device allows fewer); the blocked shrink's partial
    // sums are sized for it.
    private const int WarpsPerGroup = 4;
    // Padded row of the staged chunks: the 16 threads of a rank row read 16 different x rows at
    // the same k, which a stride of 128 floats would put in one bank.
    private const int KStride = KChunk + 1;
    private const int MaxRowsPerGroup = MaxGroupThreads / TileTokens;
    private const int TokensPerStep = 4;

    private readonly int _threads;
    private readonly bool _blocked;
    private readonly bool _mma;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int, int> _shrink;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int> _expand;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int, int> _shrinkBlocked;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int> _expandBlocked;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int, int>? _shrinkMma;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int>? _expandMma;

    /// <summary>Loads the kernels; <paramref name="tensorCores"/> false keeps the fp32 kernels everywhere (to measure the tensor cores' gain).</summary>
    public SegmentLoraKernels(Accelerator accelerator, bool tensorCores = true)
    {
        int ws = accelerator.WarpSize;
        int warps = Math.Max(1, Math.Min(WarpsPerGroup, Math.Min(accelerator.MaxNumThreadsPerGroup, MaxGroupThreads) / ws));
        _threads = warps * ws;
        _blocked = ws % TokenGroups == 0;
        _shrink = accelerator.LoadKernel<ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int, int>(ShrinkKernel);
        _expand = accelerator.LoadKernel<ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int>(ExpandKernel);
        _shrinkBlocked = accelerator.LoadKernel<ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int, int>(ShrinkBlockedKernel);
        _expandBlocked = accelerator.LoadKernel<ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int>(ExpandBlockedKernel);
        // The products need whole warps of 32 and the shrink's partial sums 4 warps a group.
        _mma = tensorCores && ws == TensorCore.WarpLanes && _threads == WarpsPerGroup * ws;
        if (_mma)
        {
            _shrinkMma = accelerator.LoadKernel<ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int, int>(ShrinkMmaKernel);
            _expandMma = accelerator.LoadKernel<ArrayView<TokenTile>, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int>(ExpandMmaKernel);
        }
    }

    /// <summary>
    /// Whether the device can run the kernels: a group of a multiple of <see cref="TileTokens"/>
    /// threads, at most <see cref="MaxGroupThreads"/>, in warps of a multiple of 4 threads (every
    /// GPU; not ILGPU's CPU device of one small warp per group).
    /// </summary>
    public bool Supports => _threads % TileTokens == 0 && _threads <= MaxGroupThreads && _blocked;

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
        if (UsesTensorCores(layout, group))
        {
            int mmaBlocks = (maxRank + MmaShrinkRows - 1) / MmaShrinkRows;
            _shrinkMma!(stream, new KernelConfig(numTiles * group.Count * mmaBlocks, _threads), tiles, args, layout, group, x, layer, maxRank, mmaBlocks);
            return;
        }
        if (MbgmvKernels.ShrinkVectorizes(layout, group))
        {
            int blocks = (maxRank + BlockRows - 1) / BlockRows;
            _shrinkBlocked(stream, new KernelConfig(numTiles * group.Count * blocks, _threads), tiles, args, layout, group, x, layer, maxRank, blocks);
            return;
        }
        int rows = _threads / TileTokens;
        int rowBlocks = (maxRank + rows - 1) / rows;
        _shrink(stream, new KernelConfig(numTiles * group.Count * rowBlocks, _threads), tiles, args, layout, group, x, layer, maxRank, rowBlocks);
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
        // Each kernel's group covers its own number of output columns.
        var (expand, cols) = UsesTensorCores(layout, group)
            ? (_expandMma!, _threads / TensorCore.WarpLanes * MmaExpandColumns)
            // 16-byte Bᵀ loads and 32-byte y updates: as MbgmvKernels.LoraExpand needs.
            : MbgmvKernels.ExpandVectorizes(layout, group) ? (_expandBlocked, _threads / TokenGroups * 8) : (_expand, _threads);
        expand(stream, new KernelConfig(numTiles * ColumnBlocks(group, cols), _threads), tiles, args, layout, group, y, layer, maxRank);
    }

    private static int ColumnBlocks(int width, int threads) => (width + threads - 1) / threads;

    /// <summary>Blocks of <paramref name="cols"/> columns over all the group's modules (each module's columns in blocks of their own).</summary>
    private static int ColumnBlocks(LoraGroup group, int cols) =>
        ColumnBlocks(group.Out0, cols) + ColumnBlocks(group.Out1, cols) + ColumnBlocks(group.Out2, cols);

    /// <summary>
    /// This group's shrink block of a launch of (tile, module g, block of <paramref name="rowsPerBlock"/>
    /// rank rows) groups: its tile, module, the tile's adapter slot and entry, and its first rank row.
    /// False for the whole group (exits are taken before any barrier) when there is nothing to
    /// compute: a base-model tile, or rows past the module's rank.
    /// </summary>
    private static bool TryShrinkBlock(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, int layer, int rowBlocks,
        int rowsPerBlock, out TokenTile tile, out int g, out int slot, out LoraModuleEntry e, out int j0)
    {
        int block = Grid.IdxX % rowBlocks;
        int rest = Grid.IdxX / rowBlocks;
        g = rest % group.Count;
        tile = tiles[rest / group.Count];
        j0 = block * rowsPerBlock;
        return a.TryRow(layout, group, layer, tile.First, g, j0, out slot, out e);
    }

    /// <summary>
    /// This group's expand block of a launch of (tile, block of <paramref name="cols"/> output
    /// columns over the group's modules) groups: its tile, the block within its module g, where the
    /// module's columns start in the output row, the tile's adapter slot and entry. False for the
    /// whole group when there is nothing to add: a base-model tile or an unadapted module.
    /// </summary>
    private static bool TryExpandBlock(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, int layer, int cols,
        out TokenTile tile, out int block, out int g, out int colBase, out int slot, out LoraModuleEntry e)
    {
        int blocks0 = ColumnBlocks(group.Out0, cols);
        int blocks1 = ColumnBlocks(group.Out1, cols);
        int perTile = ColumnBlocks(group, cols);
        tile = tiles[Grid.IdxX / perTile];
        block = Grid.IdxX % perTile;
        g = 0;
        colBase = 0;
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
        // Rank row 0 exists unless the module is unadapted.
        return a.TryRow(layout, group, layer, tile.First, g, 0, out slot, out e);
    }

    internal static void ShrinkBlockedKernel(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<Half> x,
        int layer, int maxRank, int rowBlocks)
    {
        var partial = SharedMemory.Allocate<float>(WarpsPerGroup * TileTokens * BlockRows);
        if (!TryShrinkBlock(tiles, a, layout, group, layer, rowBlocks, BlockRows, out var tile, out int g, out int slot, out var e, out int j0))
            return;

        int n = group.InFeatures;
        int kLanes = Warp.WarpSize / TokenGroups;
        int tokenGroup = Warp.LaneIdx / kLanes;
        int kLane = Warp.LaneIdx - tokenGroup * kLanes;
        int warps = Group.DimX / Warp.WarpSize;
        // This warp's share of the input features, in whole 8-feature chunks.
        int share = (n / 8 + warps - 1) / warps * 8;
        int kBegin = Warp.WarpIdx * share;
        int kEnd = Math.Min(n, kBegin + share);
        // Tokens past the tile repeat its last token and rows past the rank the last row, so the
        // loop needs no bounds; their sums are not written.
        int lastToken = tile.First + tile.Count - 1;
        int t0 = tile.First + tokenGroup * TokensPerLane;
        long x0 = (long)Math.Min(t0, lastToken) * n, x1 = (long)Math.Min(t0 + 1, lastToken) * n;
        long x2 = (long)Math.Min(t0 + 2, lastToken) * n, x3 = (long)Math.Min(t0 + 3, lastToken) * n;
        int lastRow = e.Rank - 1;
        int r0 = e.AStart + Math.Min(j0, lastRow) * n, r1 = e.AStart + Math.Min(j0 + 1, lastRow) * n;
        int r2 = e.AStart + Math.Min(j0 + 2, lastRow) * n, r3 = e.AStart + Math.Min(j0 + 3, lastRow) * n;
        var x8 = x.Cast<Half8>();
        var pool8 = a.Pool.Cast<Half8>();
        // Each row's page, found again only when the row crosses into the next one (a division
        // per load would cost more integer work than the products).
        int k = kBegin + 8 * kLane;
        PageCursor p0 = PageCursor.Seek(a, layout, slot, layer, r0 + k), p1 = PageCursor.Seek(a, layout, slot, layer, r1 + k);
        PageCursor p2 = PageCursor.Seek(a, layout, slot, layer, r2 + k), p3 = PageCursor.Seek(a, layout, slot, layer, r3 + k);
        // s<r>: rank row j0 + r, one sum per token of this lane.
        Float4 s0 = default, s1 = default, s2 = default, s3 = default;
        for (; k < kEnd; k += 8 * kLanes)
        {
            p0 = p0.Follow(a, layout, slot, layer, r0 + k);
            p1 = p1.Follow(a, layout, slot, layer, r1 + k);
            p2 = p2.Follow(a, layout, slot, layer, r2 + k);
            p3 = p3.Follow(a, layout, slot, layer, r3 + k);
            // Eight 16-byte loads issued together (written out: ILGPU does not unroll inner
            // loops), each A chunk converted once and used for four tokens.
            Half8 h0 = x8[(x0 + k) / 8], h1 = x8[(x1 + k) / 8], h2 = x8[(x2 + k) / 8], h3 = x8[(x3 + k) / 8];
            Half8 a0 = pool8[(p0.Offset + r0 + k) / 8], a1 = pool8[(p1.Offset + r1 + k) / 8];
            Half8 a2 = pool8[(p2.Offset + r2 + k) / 8], a3 = pool8[(p3.Offset + r3 + k) / 8];
            Float8 f0 = h0.ToFloat8(), f1 = h1.ToFloat8(), f2 = h2.ToFloat8(), f3 = h3.ToFloat8();
            s0 = s0.Plus(a0.ToFloat8().Dots(f0, f1, f2, f3));
            s1 = s1.Plus(a1.ToFloat8().Dots(f0, f1, f2, f3));
            s2 = s2.Plus(a2.ToFloat8().Dots(f0, f1, f2, f3));
            s3 = s3.Plus(a3.ToFloat8().Dots(f0, f1, f2, f3));
        }
        // Sum over the token group's feature lanes (consecutive lanes), then over the warps.
        int first = kLanes / 2;
        s0 = WarpMath.XorSum(s0, first, 1);
        s1 = WarpMath.XorSum(s1, first, 1);
        s2 = WarpMath.XorSum(s2, first, 1);
        s3 = WarpMath.XorSum(s3, first, 1);
        if (kLane == 0)
        {
            // partial[warp, token, row]
            int at = (Warp.WarpIdx * TileTokens + tokenGroup * TokensPerLane) * BlockRows;
            StoreTokens(partial, at, s0);
            StoreTokens(partial, at + 1, s1);
            StoreTokens(partial, at + 2, s2);
            StoreTokens(partial, at + 3, s3);
        }
        Group.Barrier();
        StoreWarpSums(partial, BlockRows, warps, a, group, tile, g, e, j0, maxRank);
    }

    /// <summary>
    /// The blocked shrinks' last step, after a barrier: the sums of the group's warps, laid as
    /// partial[warp, token, row of the block] (<paramref name="rows"/> a block), added up and
    /// stored to the scratch for the tile's tokens and the block's rows below the rank.
    /// </summary>
    private static void StoreWarpSums(ArrayView<float> partial, int rows, int warps, LoraArgs a, LoraGroup group, TokenTile tile, int g,
        LoraModuleEntry e, int j0, int maxRank)
    {
        for (int v = Group.IdxX; v < TileTokens * rows; v += Group.DimX)
        {
            int t = v / rows;
            int j = j0 + v - t * rows;
            if (t < tile.Count && j < e.Rank)
            {
                float sum = 0f;
                for (int w = 0; w < warps; w++)
                    sum += partial[w * TileTokens * rows + v];
                a.Shrunk[((long)(tile.First + t) * group.Count + g) * maxRank + j] = sum;
            }
        }
    }

    /// <summary>One row's sums of four consecutive tokens into partial[token, row] (rows of <see cref="BlockRows"/>).</summary>
    private static void StoreTokens(ArrayView<float> partial, int at, Float4 v)
    {
        partial[at] = v.V0;
        partial[at + BlockRows] = v.V1;
        partial[at + 2 * BlockRows] = v.V2;
        partial[at + 3 * BlockRows] = v.V3;
    }

    internal static void ExpandBlockedKernel(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<float> y,
        int layer, int maxRank)
    {
        // The tile's scratch s[token, j] staged as [rank row][token group] of four tokens: one
        // 16-byte shared load gives a lane its four tokens' values of a row.
        var staged = SharedMemory.Allocate<Float4>(StagedRankRows * TokenGroups);
        int cLanes = Warp.WarpSize / TokenGroups;
        int cols = Group.DimX / TokenGroups * 8;
        if (!TryExpandBlock(tiles, a, layout, group, layer, cols, out var tile, out int block, out int g, out int colBase, out int slot, out var e))
            return;
        int rank = e.Rank;
        int outFeatures = group.OutFeatures(g);
        int tokenGroup = Warp.LaneIdx / cLanes;
        int o = block * cols + (Warp.WarpIdx * cLanes + Warp.LaneIdx - tokenGroup * cLanes) * 8;
        int t0 = tile.First + tokenGroup * TokensPerLane;
        int lastToken = tile.First + tile.Count - 1;
        bool active = o < outFeatures && t0 <= lastToken;
        int lastRow = rank - 1;
        var pool8 = a.Pool.Cast<Half8>();
        var step = PagePosition.Of(layout, outFeatures);
        var at0 = PagePosition.Of(layout, e.BStart + o);
        // c<i>: the lane's 8 columns for token t0 + i.
        Float8 c0 = default, c1 = default, c2 = default, c3 = default;
        for (int j0 = 0; j0 < rank; j0 += StagedRankRows)
        {
            int rows = Math.Min(StagedRankRows, rank - j0);
            // Zeros past the rank (to a multiple of four rows) and past the tile: the loop below
            // reads four rows at a time without bounds.
            for (int v = Group.IdxX; v < (rows + 3) / 4 * 4 * TokenGroups; v += Group.DimX)
            {
                int jj = v / TokenGroups;
                int t = tile.First + (v - jj * TokenGroups) * TokensPerLane;
                staged[v] = jj < rows ? Scratch(a.Shrunk, group, g, maxRank, t, lastToken, j0 + jj) : default;
            }
            Group.Barrier();
            if (active)
            {
                for (int jj = 0; jj < rows; jj += 4)
                {
                    // Four rank rows per iteration, their loads issued together (rows past the rank
                    // read the last row again, times the staged zeros); each Bᵀ chunk converted once
                    // and used for four tokens.
                    // Rows outFeatures apart, stepped from page to page (no division per row).
                    int j = j0 + jj;
                    var at1 = j + 1 <= lastRow ? at0.Advance(layout, step) : at0;
                    var at2 = j + 2 <= lastRow ? at1.Advance(layout, step) : at1;
                    var at3 = j + 3 <= lastRow ? at2.Advance(layout, step) : at2;
                    Half8 b0 = pool8[at0.Address(a, layout, slot, layer) / 8];
                    Half8 b1 = pool8[at1.Address(a, layout, slot, layer) / 8];
                    Half8 b2 = pool8[at2.Address(a, layout, slot, layer) / 8];
                    Half8 b3 = pool8[at3.Address(a, layout, slot, layer) / 8];
                    at0 = at3.Advance(layout, step);
                    // q<i>: row jj + i for the four tokens.
                    Float4 q0 = staged[jj * TokenGroups + tokenGroup], q1 = staged[(jj + 1) * TokenGroups + tokenGroup];
                    Float4 q2 = staged[(jj + 2) * TokenGroups + tokenGroup], q3 = staged[(jj + 3) * TokenGroups + tokenGroup];
                    Float8 f0 = b0.ToFloat8(), f1 = b1.ToFloat8(), f2 = b2.ToFloat8(), f3 = b3.ToFloat8();
                    c0 = c0.Plus(q0.V0, f0).Plus(q1.V0, f1).Plus(q2.V0, f2).Plus(q3.V0, f3);
                    c1 = c1.Plus(q0.V1, f0).Plus(q1.V1, f1).Plus(q2.V1, f2).Plus(q3.V1, f3);
                    c2 = c2.Plus(q0.V2, f0).Plus(q1.V2, f1).Plus(q2.V2, f2).Plus(q3.V2, f3);
                    c3 = c3.Plus(q0.V3, f0).Plus(q1.V3, f1).Plus(q2.V3, f2).Plus(q3.V3, f3);
                }
            }
            // The next chunk overwrites what slower lanes may still be reading.
            Group.Barrier();
        }
        if (!active)
            return;
        var y8 = y.Cast<Float8>();
        long at = ((long)t0 * group.OutputStride + colBase + o) / 8;
        long stride = group.OutputStride / 8;
        y8[at] = y8[at].Plus(e.Scaling, c0);
        if (t0 + 1 <= lastToken)
            y8[at + stride] = y8[at + stride].Plus(e.Scaling, c1);
        if (t0 + 2 <= lastToken)
            y8[at + 2 * stride] = y8[at + 2 * stride].Plus(e.Scaling, c2);
        if (t0 + 3 <= lastToken)
            y8[at + 3 * stride] = y8[at + 3 * stride].Plus(e.Scaling, c3);
    }

    /// <summary>s[t .. t + 3, j] from the scratch (module g), zero for tokens past <paramref name="lastToken"/>.</summary>
    private static Float4 Scratch(ArrayView<float> s, LoraGroup group, int g, int maxRank, int t, int lastToken, int j)
    {
        long at = ((long)t * group.Count + g) * maxRank + j;
        long step = (long)group.Count * maxRank;
        return new Float4
        {
            V0 = t <= lastToken ? s[at] : 0f,
            V1 = t + 1 <= lastToken ? s[at + step] : 0f,
            V2 = t + 2 <= lastToken ? s[at + 2 * step] : 0f,
            V3 = t + 3 <= lastToken ? s[at + 3 * step] : 0f,
        };
    }

    internal static void ShrinkKernel(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<Half> x,
        int layer, int maxRank, int rowBlocks)
    {
        var xs = SharedMemory.Allocate<float>(TileTokens * KStride);
        var aS = SharedMemory.Allocate<float>(MaxRowsPerGroup * KStride);
        int rows = Group.DimX / TileTokens;
        if (!TryShrinkBlock(tiles, a, layout, group, layer, rowBlocks, rows, out var tile, out int g, out int slot, out var e, out int j0))
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
                    ? (float)a.Pool[layout.Address(a.PageLists, slot, layer, e.AStart + (j0 + rr) * n + k0 + k)]
                    : 0f;
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
        int layer, int maxRank)
    {
        var ss = SharedMemory.Allocate<float>(TileTokens * RankChunk);
        var bs = SharedMemory.Allocate<float>(RankChunk * MaxGroupThreads);
        int cols = Group.DimX;
        if (!TryExpandBlock(tiles, a, layout, group, layer, cols, out var tile, out int block, out int g, out int colBase, out int slot, out var e))
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
            for (int v = c; v < rowsHere * cols; v += cols)
            {
                int rr = v / cols;
                int cc = v - rr * cols;
                bs[v] = o0 + cc < outFeatures
                    ? (float)a.Pool[layout.Address(a.PageLists, slot, layer, e.BStart + (j0 + rr) * outFeatures + o0 + cc)]
                    : 0f;
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
