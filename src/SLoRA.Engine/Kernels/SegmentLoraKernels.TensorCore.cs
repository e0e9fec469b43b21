using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// MBGMM on the tensor cores (<see cref="TensorCore.Mma"/>): a tile of 16 tokens is exactly the
/// 16 rows of one <c>m16n8k16</c> product, so the tile's LoRA is a handful of warp-wide products
/// instead of 16 × rank × features fp32 multiply-adds, and fp16 A, Bᵀ and x go to the tensor cores
/// as loaded, with no conversion (the fp32 kernels converted every element they read, and were
/// bound by that and by latency: 35% of bandwidth for a 64-tile q,k,v MBGMM, docs/PERF_NOTES.md §14).
/// </summary>
/// <remarks>
/// <para>
/// Shrink: one group per (tile, module g, <see cref="MmaShrinkRows"/> rank rows); its warps split
/// the input features in chunks of 64. Per chunk a lane loads 16 consecutive features of x for
/// tokens g and g + 8 of the tile and of A for rank rows g and g + 8 of the block (lane = 4 g + t;
/// 16-byte loads), and the warp makes 4 k-steps × 2 row blocks of products: "k" 2t, 2t+1 of step s
/// is feature 16t + 4s + {0, 1} of the chunk, "k" 2t+8, 2t+9 is 16t + 4s + {2, 3}, the same for x
/// and A (the sum over k does not care which feature a k is). The group's warps add their sums
/// through shared memory, as in the blocked shrink.
/// </para>
/// <para>
/// Expand: one warp per (tile, 64 output columns of module g), in groups of 4 warps. The product is
/// s[16 tokens, rank] · Bᵀ[rank, 64 columns] in rank steps of 16: a lane loads 8 columns (16 bytes)
/// of the four Bᵀ rows 2t, 2t+1, 2t+8, 2t+9 of the step, and product n (0..7) of the step takes
/// column n of each lane's 8: "column" g of product n is output column 8 g + n, so a lane's results
/// (columns 2t, 2t+1 of each product) are output columns 16t .. 16t+15 of its two tokens, added to y
/// with 32-byte read-modify-writes. s is fp32 in the scratch; it goes to the products as two fp16
/// parts (the value rounded, and the rounding's rest), each multiplied by the same Bᵀ, so the
/// expand keeps about 22 bits of s (one fp16 part alone would lose what the fp32 kernels keep).
/// </para>
/// Needs warps of <see cref="TensorCore.WarpLanes"/> lanes and the layouts of
/// <see cref="UsesTensorCores"/>; tokens past a tile and rank rows past the rank read the tile's
/// last token and the last row (so no load is conditional) and are neither written nor added.
/// </remarks>
internal sealed partial class SegmentLoraKernels
{
    /// <summary>Rank rows per group of the tensor-core shrink: two 8-row products share each x load.</summary>
    public const int MmaShrinkRows = 16;

    /// <summary>Input features a warp of the tensor-core shrink takes per step: 4 lanes × 16.</summary>
    public const int MmaFeatureChunk = 64;

    /// <summary>Output columns one warp of the tensor-core expand covers: 8 products of 8 columns.</summary>
    public const int MmaExpandColumns = 64;

    private const int MmaRankStep = 16;

    /// <summary>Whether the tensor-core kernels are loaded (warps of 32 and not turned off); <see cref="UsesTensorCores"/> says for which groups.</summary>
    public bool TensorCores => _mma;

    /// <summary>
    /// Whether the tensor-core kernels serve <paramref name="group"/>: loaded (warps of 32, see the
    /// constructor), 8-aligned matrices and rows, input features a multiple of
    /// <see cref="MmaFeatureChunk"/> and every module's outputs a multiple of <see cref="MmaExpandColumns"/>
    /// (Llama's 4096, 11008 and key/value widths are).
    /// </summary>
    public bool UsesTensorCores(LoraLayout layout, LoraGroup group) =>
        _mma && MbgmvKernels.ShrinkVectorizes(layout, group) && MbgmvKernels.ExpandVectorizes(layout, group)
        && group.InFeatures % MmaFeatureChunk == 0
        && group.Out0 % MmaExpandColumns == 0 && group.Out1 % MmaExpandColumns == 0 && group.Out2 % MmaExpandColumns == 0;

    internal static void ShrinkMmaKernel(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<Half> x,
        int layer, int maxRank, int rowBlocks)
    {
        // partial[warp, token, row of the block]
        var partial = SharedMemory.Allocate<float>(WarpsPerGroup * TileTokens * MmaShrinkRows);
        if (!TryShrinkBlock(tiles, a, layout, group, layer, rowBlocks, MmaShrinkRows, out var tile, out int g, out int slot, out var e, out int j0))
            return;

        int n = group.InFeatures;
        int lane = Warp.LaneIdx;
        int gi = lane / 4, t = lane - 4 * (lane / 4);
        int warps = Group.DimX / Warp.WarpSize;
        int share = (n / MmaFeatureChunk + warps - 1) / warps * MmaFeatureChunk;
        int kBegin = Warp.WarpIdx * share;
        int kEnd = Math.Min(n, kBegin + share);
        int lastToken = tile.First + tile.Count - 1;
        long xLo = (long)Math.Min(tile.First + gi, lastToken) * n, xHi = (long)Math.Min(tile.First + gi + 8, lastToken) * n;
        int lastRow = e.Rank - 1;
        int rLo = e.AStart + Math.Min(j0 + gi, lastRow) * n, rHi = e.AStart + Math.Min(j0 + 8 + gi, lastRow) * n;
        var x8 = x.Cast<Half8>();
        var pool8 = a.Pool.Cast<Half8>();
        int k = kBegin + 16 * t;
        PageCursor pLo = PageCursor.Seek(a, layout, slot, layer, rLo + k), pHi = PageCursor.Seek(a, layout, slot, layer, rHi + k);
        // Rows j0 .. j0+7 and j0+8 .. j0+15 of the block.
        Float4 cLo = default, cHi = default;
        for (; k < kEnd; k += MmaFeatureChunk)
        {
            // Two 8-feature halves of each row: each half lies within one page slice (8-aligned).
            Half8 xl0 = x8[(xLo + k) / 8], xl1 = x8[(xLo + k + 8) / 8], xh0 = x8[(xHi + k) / 8], xh1 = x8[(xHi + k + 8) / 8];
            pLo = pLo.Follow(a, layout, slot, layer, rLo + k);
            pHi = pHi.Follow(a, layout, slot, layer, rHi + k);
            Half8 al0 = pool8[(pLo.Offset + rLo + k) / 8], ah0 = pool8[(pHi.Offset + rHi + k) / 8];
            pLo = pLo.Follow(a, layout, slot, layer, rLo + k + 8);
            pHi = pHi.Follow(a, layout, slot, layer, rHi + k + 8);
            Half8 al1 = pool8[(pLo.Offset + rLo + k + 8) / 8], ah1 = pool8[(pHi.Offset + rHi + k + 8) / 8];
            // Step s takes words 2s, 2s+1 of the lane's 16 features.
            cLo = TensorCore.Mma(cLo, xl0.W0, xh0.W0, xl0.W1, xh0.W1, al0.W0, al0.W1);
            cHi = TensorCore.Mma(cHi, xl0.W0, xh0.W0, xl0.W1, xh0.W1, ah0.W0, ah0.W1);
            cLo = TensorCore.Mma(cLo, xl0.W2, xh0.W2, xl0.W3, xh0.W3, al0.W2, al0.W3);
            cHi = TensorCore.Mma(cHi, xl0.W2, xh0.W2, xl0.W3, xh0.W3, ah0.W2, ah0.W3);
            cLo = TensorCore.Mma(cLo, xl1.W0, xh1.W0, xl1.W1, xh1.W1, al1.W0, al1.W1);
            cHi = TensorCore.Mma(cHi, xl1.W0, xh1.W0, xl1.W1, xh1.W1, ah1.W0, ah1.W1);
            cLo = TensorCore.Mma(cLo, xl1.W2, xh1.W2, xl1.W3, xh1.W3, al1.W2, al1.W3);
            cHi = TensorCore.Mma(cHi, xl1.W2, xh1.W2, xl1.W3, xh1.W3, ah1.W2, ah1.W3);
        }
        // This lane's sums: tokens gi, gi + 8 × rows 2t, 2t+1 (cLo) and 8 + 2t, 9 + 2t (cHi).
        int lo = (Warp.WarpIdx * TileTokens + gi) * MmaShrinkRows + 2 * t;
        int hi = lo + 8 * MmaShrinkRows;
        partial[lo] = cLo.V0;
        partial[lo + 1] = cLo.V1;
        partial[hi] = cLo.V2;
        partial[hi + 1] = cLo.V3;
        partial[lo + 8] = cHi.V0;
        partial[lo + 9] = cHi.V1;
        partial[hi + 8] = cHi.V2;
        partial[hi + 9] = cHi.V3;
        Group.Barrier();
        StoreWarpSums(partial, MmaShrinkRows, warps, a, group, tile, g, e, j0, maxRank);
    }

    internal static void ExpandMmaKernel(ArrayView<TokenTile> tiles, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<float> y,
        int layer, int maxRank)
    {
        int cols = Group.DimX / Warp.WarpSize * MmaExpandColumns;
        if (!TryExpandBlock(tiles, a, layout, group, layer, cols, out var tile, out int block, out int g, out int colBase, out int slot, out var e))
            return;
        int outFeatures = group.OutFeatures(g);
        int o0 = block * cols + Warp.WarpIdx * MmaExpandColumns;
        // Whole warps only: the products need every lane.
        if (o0 >= outFeatures)
            return;
        int lane = Warp.LaneIdx;
        int gi = lane / 4, t = lane - 4 * (lane / 4);
        int rank = e.Rank;
        int lastRow = rank - 1;
        int lastToken = tile.First + tile.Count - 1;
        int tLo = Math.Min(tile.First + gi, lastToken), tHi = Math.Min(tile.First + gi + 8, lastToken);
        long sStep = (long)group.Count * maxRank;
        long sLo = ((long)tLo * group.Count + g) * maxRank, sHi = ((long)tHi * group.Count + g) * maxRank;
        var pool8 = a.Pool.Cast<Half8>();
        int bCol = e.BStart + o0 + 8 * gi;
        // Product n: its column g is output column o0 + 8 g + n; c<n>: (token gi, columns 16t + n
        // and 16t + 8 + n), (token gi + 8, the same).
        Float4 c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int j = 0; j < rank; j += MmaRankStep)
        {
            // This lane's four k of the step: rank rows j + 2t, j + 2t + 1, j + 2t + 8, j + 2t + 9.
            int r0 = j + 2 * t, r1 = r0 + 1, r2 = r0 + 8, r3 = r0 + 9;
            Half8 b0 = pool8[layout.Address(a.PageLists, slot, layer, bCol + Math.Min(r0, lastRow) * outFeatures) / 8];
            Half8 b1 = pool8[layout.Address(a.PageLists, slot, layer, bCol + Math.Min(r1, lastRow) * outFeatures) / 8];
            Half8 b2 = pool8[layout.Address(a.PageLists, slot, layer, bCol + Math.Min(r2, lastRow) * outFeatures) / 8];
            Half8 b3 = pool8[layout.Address(a.PageLists, slot, layer, bCol + Math.Min(r3, lastRow) * outFeatures) / 8];
            // s of tokens gi and gi + 8 at those rows (zero past the rank) as fp16 pairs, each the
            // sum of a rounded part and the rounded rest, both multiplied: s keeps ~22 bits.
            ScratchPair(a.Shrunk, sLo, r0, lastRow, out uint lo0, out uint lo0Rest);
            ScratchPair(a.Shrunk, sHi, r0, lastRow, out uint hi0, out uint hi0Rest);
            ScratchPair(a.Shrunk, sLo, r2, lastRow, out uint lo1, out uint lo1Rest);
            ScratchPair(a.Shrunk, sHi, r2, lastRow, out uint hi1, out uint hi1Rest);
            c0 = Product(c0, lo0, hi0, lo1, hi1, lo0Rest, hi0Rest, lo1Rest, hi1Rest, TensorCore.Interleave(b0, b1, 0), TensorCore.Interleave(b2, b3, 0));
            c1 = Product(c1, lo0, hi0, lo1, hi1, lo0Rest, hi0Rest, lo1Rest, hi1Rest, TensorCore.Interleave(b0, b1, 1), TensorCore.Interleave(b2, b3, 1));
            c2 = Product(c2, lo0, hi0, lo1, hi1, lo0Rest, hi0Rest, lo1Rest, hi1Rest, TensorCore.Interleave(b0, b1, 2), TensorCore.Interleave(b2, b3, 2));
            c3 = Product(c3, lo0, hi0, lo1, hi1, lo0Rest, hi0Rest, lo1Rest, hi1Rest, TensorCore.Interleave(b0, b1, 3), TensorCore.Interleave(b2, b3, 3));
            c4 = Product(c4, lo0, hi0, lo1, hi1, lo0Rest, hi0Rest, lo1Rest, hi1Rest, TensorCore.Interleave(b0, b1, 4), TensorCore.Interleave(b2, b3, 4));
            c5 = Product(c5, lo0, hi0, lo1, hi1, lo0Rest, hi0Rest, lo1Rest, hi1Rest, TensorCore.Interleave(b0, b1, 5), TensorCore.Interleave(b2, b3, 5));
            c6 = Product(c6, lo0, hi0, lo1, hi1, lo0Rest, hi0Rest, lo1Rest, hi1Rest, TensorCore.Interleave(b0, b1, 6), TensorCore.Interleave(b2, b3, 6));
            c7 = Product(c7, lo0, hi0, lo1, hi1, lo0Rest, hi0Rest, lo1Rest, hi1Rest, TensorCore.Interleave(b0, b1, 7), TensorCore.Interleave(b2, b3, 7));
        }
        var y8 = y.Cast<Float8>();
        long stride = group.OutputStride;
        long at = colBase + o0 + 16 * t;
        float scale = e.Scaling;
        if (tile.First + gi <= lastToken)
        {
            long row = (tile.First + gi) * stride + at;
            y8[row / 8] = y8[row / 8].Plus(scale, new Float8 { V0 = c0.V0, V1 = c1.V0, V2 = c2.V0, V3 = c3.V0, V4 = c4.V0, V5 = c5.V0, V6 = c6.V0, V7 = c7.V0 });
            y8[row / 8 + 1] = y8[row / 8 + 1].Plus(scale, new Float8 { V0 = c0.V1, V1 = c1.V1, V2 = c2.V1, V3 = c3.V1, V4 = c4.V1, V5 = c5.V1, V6 = c6.V1, V7 = c7.V1 });
        }
        if (tile.First + gi + 8 <= lastToken)
        {
            long row = (tile.First + gi + 8) * stride + at;
            y8[row / 8] = y8[row / 8].Plus(scale, new Float8 { V0 = c0.V2, V1 = c1.V2, V2 = c2.V2, V3 = c3.V2, V4 = c4.V2, V5 = c5.V2, V6 = c6.V2, V7 = c7.V2 });
            y8[row / 8 + 1] = y8[row / 8 + 1].Plus(scale, new Float8 { V0 = c0.V3, V1 = c1.V3, V2 = c2.V3, V3 = c3.V3, V4 = c4.V3, V5 = c5.V3, V6 = c6.V3, V7 = c7.V3 });
        }
    }

    /// <summary>One rank step of one 8-column product: the rounded parts of s, then the rests, times the same Bᵀ words.</summary>
    private static Float4 Product(Float4 c, uint lo0, uint hi0, uint lo1, uint hi1, uint lo0Rest, uint hi0Rest, uint lo1Rest, uint hi1Rest,
        uint b0, uint b1) =>
        TensorCore.Mma(TensorCore.Mma(c, lo0, hi0, lo1, hi1, b0, b1), lo0Rest, hi0Rest, lo1Rest, hi1Rest, b0, b1);

    /// <summary>
    /// s[row], s[row + 1] of one token's scratch (at <paramref name="at"/>), zero for rows past
    /// <paramref name="lastRow"/>, as two fp16 pairs: the values rounded, and what the rounding left.
    /// </summary>
    private static void ScratchPair(ArrayView<float> s, long at, int row, int lastRow, out uint rounded, out uint rest)
    {
        float v0 = s[at + Math.Min(row, lastRow)], v1 = s[at + Math.Min(row + 1, lastRow)];
        v0 = row <= lastRow ? v0 : 0f;
        v1 = row + 1 <= lastRow ? v1 : 0f;
        Half h0 = (Half)v0, h1 = (Half)v1;
        rounded = Half8.Pack(h0, h1);
        rest = TensorCore.Pack(v0 - (float)h0, v1 - (float)h1);
    }
}
