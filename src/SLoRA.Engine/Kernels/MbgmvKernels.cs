using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// S-LoRA's MBGMV on GPUs: the LoRA shrink and expand for decode tokens (one token per request,
/// each with its own adapter and rank), over a token list so that the prefill tiles can go to
/// <see cref="SegmentLoraKernels"/> (MBGMM) in the same step. Same values and scratch layout as the
/// portable <see cref="LoraKernels"/>; A and Bᵀ read through the adapters' pages with 16-byte
/// loads where the layout is 8-aligned (as <c>PackedAdapter</c> packs it).
/// </summary>
internal sealed class MbgmvKernels
{
    /// <summary>Rank rows per group of the vectorized shrink.</summary>
    private const int ShrinkRows = 4;

    /// <summary>Warps per group of the vectorized shrink (they split the input features); its shared partial sums are sized for it.</summary>
    private const int ShrinkWarps = 4;

    /// <summary>Rank phases of the vectorized expand: lanes that split one 8-column chunk's rank rows.</summary>
    public const int RankPhases = 4;

    private readonly Accelerator _acc;
    private readonly Action<AcceleratorStream, KernelConfig, LoraArgs, LoraLayout, LoraGroup, ArrayView<int>, ArrayView<Half>, int, int, int> _shrink;
    private readonly Action<AcceleratorStream, KernelConfig, LoraArgs, LoraLayout, LoraGroup, ArrayView<int>, ArrayView<Half>, int, int, int> _shrinkRows;
    private readonly Action<AcceleratorStream, KernelConfig, LoraArgs, LoraLayout, LoraGroup, ArrayView<int>, ArrayView<float>, int, int, int, int> _expand8;

    public MbgmvKernels(Accelerator accelerator)
    {
        _acc = accelerator;
        _shrink = accelerator.LoadKernel<LoraArgs, LoraLayout, LoraGroup, ArrayView<int>, ArrayView<Half>, int, int, int>(LoraShrink);
        _shrinkRows = accelerator.LoadKernel<LoraArgs, LoraLayout, LoraGroup, ArrayView<int>, ArrayView<Half>, int, int, int>(LoraShrinkRows);
        _expand8 = accelerator.LoadKernel<LoraArgs, LoraLayout, LoraGroup, ArrayView<int>, ArrayView<float>, int, int, int, int>(LoraExpand8);
    }

    private KernelConfig Warps(int items) => TunedKernels.Warps(_acc, items);

    private static int WarpItem() => TunedKernels.WarpItem();

    /// <summary>
    /// The shrink half of <see cref="LoraKernels.Apply"/> for the tokens <paramref name="tokenList"/>[0 ..
    /// <paramref name="numTokens"/>) (batch token indices): one group per (token, module, four rank
    /// rows) with 16-byte loads on 8-aligned layouts (<see cref="LoraShrinkRows"/>), one warp per
    /// (token, module, rank row) with scalar loads otherwise.
    /// </summary>
    public void LoraShrink(AcceleratorStream stream, ArrayView<int> tokenList, int numTokens, LoraArgs args, LoraLayout layout, LoraGroup group,
        ArrayView<Half> x, int layer, int maxRank)
    {
        int items = numTokens * group.Count * maxRank;
        if (items == 0)
            return;
        if (ShrinkVectorizes(layout, group))
        {
            // A group per (token, module, four rank rows): each x chunk is loaded once for the four
            // rows, and the group's warps split the features (a warp walking a whole 4096-wide row
            // was a chain of eight memory round trips).
            int blocks = (maxRank + ShrinkRows - 1) / ShrinkRows;
            int warps = Math.Max(1, Math.Min(ShrinkWarps, _acc.MaxNumThreadsPerGroup / _acc.WarpSize));
            _shrinkRows(stream, new KernelConfig(numTokens * group.Count * blocks, warps * _acc.WarpSize), args, layout, group, tokenList, x, layer,
                maxRank, blocks);
        }
        else
        {
            _shrink(stream, Warps(items), args, layout, group, tokenList, x, layer, maxRank, items);
        }
    }

    /// <summary>
    /// Whether the shrinks can read A and x with 16-byte loads: 8-aligned rows, so the input width
    /// and the slices are multiples of 8 and every matrix starts on a multiple of 8 (as
    /// PackedAdapter packs them, <see cref="LoraLayout.AlignedStarts"/>).
    /// </summary>
    public static bool ShrinkVectorizes(LoraLayout layout, LoraGroup group) =>
        group.InFeatures % 8 == 0 && layout.SliceElements % 8 == 0 && layout.AlignedStarts == 1;

    /// <summary>
    /// Whether <see cref="LoraExpand"/> can run: every module's outputs, the output rows and the
    /// packed matrices 8-aligned, so that 8 output columns are one 16-byte load of a Bᵀ row (which
    /// never straddles a page) and one 32-byte read-modify-write of y. Otherwise the portable
    /// <see cref="LoraKernels.Expand(AcceleratorStream, int, LoraArgs, LoraLayout, LoraGroup, ArrayView{float}, int, int)"/> serves.
    /// </summary>
    public static bool ExpandVectorizes(LoraLayout layout, LoraGroup group) =>
        layout.AlignedStarts == 1 && layout.SliceElements % 8 == 0 && group.OutputStride % 8 == 0
        && group.Out0 % 8 == 0 && group.Out1 % 8 == 0 && group.Out2 % 8 == 0;

    /// <summary>
    /// The expand half of <see cref="LoraKernels.Apply"/> for the tokens of <paramref name="tokenList"/>,
    /// after the shrink: one thread per (token, 8 output columns) walking the rank with four
    /// 16-byte Bᵀ loads in flight. Needs <see cref="ExpandVectorizes"/>.
    /// </summary>
    public void LoraExpand(AcceleratorStream stream, ArrayView<int> tokenList, int numTokens, LoraArgs args, LoraLayout layout, LoraGroup group,
        ArrayView<float> y, int layer, int maxRank, int rankPhases = RankPhases)
    {
        if (!ExpandVectorizes(layout, group))
            throw new ArgumentException("The vectorized expand needs 8-aligned matrices, outputs and rows (see ExpandVectorizes).", nameof(group));
        if (maxRank == 0 || numTokens == 0)
            return;
        // Lanes over (rank phase, 8-column chunk): a warp covers ws/phases chunks of 8 columns, and
        // each chunk's rank rows are split over the phases, so an adapter of rank 64 is 16 rows per
        // thread, not 64 (the chain of dependent page-list and Bᵀ loads sets the kernel's time).
        int ws = _acc.WarpSize;
        int phases = Math.Min(rankPhases, ws);
        int columnsPerWarp = ws / phases * 8;
        int warpsPerToken = (group.OutWidth + columnsPerWarp - 1) / columnsPerWarp;
        int items = numTokens * warpsPerToken;
        _expand8(stream, Warps(items), args, layout, group, tokenList, y, layer, maxRank, phases, items);
    }

    internal static void LoraExpand8(LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<int> tokenList, ArrayView<float> y, int layer, int maxRank,
        int phases, int numItems)
    {
        int item = WarpItem();
        if (item >= numItems)
            return;
        int ws = Warp.WarpSize;
        int chunks = ws / phases;
        int warpsPerToken = (group.OutWidth + chunks * 8 - 1) / (chunks * 8);
        int listIndex = item / warpsPerToken;
        int m = tokenList[listIndex];
        int slot = a.SlotOfToken[m];
        if (slot < 0)
            return; // the whole warp: one token
        int phase = Warp.LaneIdx / chunks;
        int col = ((item - listIndex * warpsPerToken) * chunks + Warp.LaneIdx - phase * chunks) * 8;
        // Each lane's module; lanes past the outputs, or of an unadapted module, walk no rows but
        // still take part in the shuffles below.
        int g = group.ModuleOf(col, out int o);
        bool inside = col < group.OutWidth;
        var e = a.Entries[layout.EntryIndex(slot, layer, group.Module0 + (inside ? g : 0))];
        int rank = inside ? e.Rank : 0;
        long outFeatures = group.OutFeatures(g);
        long shrunk = ((long)m * group.Count + g) * maxRank;
        var pool8 = a.Pool.Cast<Half8>();
        var acc = default(Float8);
        // This phase's rows are phases × outFeatures apart: stepped from page to page, not divided.
        var step = PagePosition.Of(layout, phases * (int)outFeatures);
        var at0 = PagePosition.Of(layout, e.BStart + o + phase * (int)outFeatures);
        for (int j = phase; j < rank; j += 4 * phases)
        {
            // Four of this phase's rank rows per iteration, their loads issued together.
            bool ok1 = j + phases < rank, ok2 = j + 2 * phases < rank, ok3 = j + 3 * phases < rank;
            var at1 = at0.Advance(layout, step);
            var at2 = at1.Advance(layout, step);
            var at3 = at2.Advance(layout, step);
            Half8 b0 = pool8[at0.Address(a, layout, slot, layer) / 8];
            Half8 b1 = ok1 ? pool8[at1.Address(a, layout, slot, layer) / 8] : default;
            Half8 b2 = ok2 ? pool8[at2.Address(a, layout, slot, layer) / 8] : default;
            Half8 b3 = ok3 ? pool8[at3.Address(a, layout, slot, layer) / 8] : default;
            float s0 = a.Shrunk[shrunk + j];
            float s1 = ok1 ? a.Shrunk[shrunk + j + phases] : 0f;
            float s2 = ok2 ? a.Shrunk[shrunk + j + 2 * phases] : 0f;
            float s3 = ok3 ? a.Shrunk[shrunk + j + 3 * phases] : 0f;
            acc = acc.Add(s0, b0).Add(s1, b1).Add(s2, b2).Add(s3, b3);
            at0 = at3.Advance(layout, step);
        }
        // Sum the phases of each chunk (lanes chunk, chunk + chunks, ...).
        acc = WarpMath.XorSum(acc, ws / 2, chunks);
        if (phase == 0 && rank > 0)
        {
            var y8 = y.Cast<Float8>();
            long at = ((long)m * group.OutputStride + col) / 8;
            y8[at] = y8[at].Plus(e.Scaling, acc);
        }
    }

    /// <summary>The scalar shrink (rows not 8-aligned): one warp per (token, module, rank row), lanes striding over the row.</summary>
    internal static void LoraShrink(LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<int> tokenList, ArrayView<Half> x, int layer, int maxRank,
        int numItems)
    {
        int item = WarpItem();
        if (item >= numItems)
            return;
        int j = item % maxRank;
        int rest = item / maxRank;
        int g = rest % group.Count;
        int m = tokenList[rest / group.Count];
        long i = ((long)m * group.Count + g) * maxRank + j;
        if (!a.TryRow(layout, group, layer, m, g, j, out int slot, out var e))
            return;
        int n = group.InFeatures;
        long xRow = (long)m * n;
        float sum = 0f;
        // Walk the row through its pages: one division per page boundary, not per element.
        int element = e.AStart + j * n + Warp.LaneIdx;
        var cursor = PageCursor.Seek(a, layout, slot, layer, element);
        for (int k = Warp.LaneIdx; k < n; k += Warp.WarpSize)
        {
            cursor = cursor.Follow(a, layout, slot, layer, element);
            sum += (float)x[xRow + k] * (float)a.Pool[cursor.Offset + element];
            element += Warp.WarpSize;
        }
        sum = WarpMath.AllSum(sum);
        if (Warp.LaneIdx == 0)
            a.Shrunk[i] = sum;
    }

    /// <summary>
    /// The vectorized shrink: one group per (token, module, block of four rank rows); the group's
    /// warps split the input features, a warp's lanes take 16-byte chunks of its share, two chunks
    /// per iteration: 2 x loads and 8 A loads in flight per lane, x read once per four rows. Each
    /// warp reduces with shuffles, the group through shared memory.
    /// </summary>
    internal static void LoraShrinkRows(LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<int> tokenList, ArrayView<Half> x, int layer,
        int maxRank, int blocks)
    {
        var partial = SharedMemory.Allocate<float>(ShrinkWarps * ShrinkRows);
        int block = Grid.IdxX % blocks;
        int rest = Grid.IdxX / blocks;
        int g = rest % group.Count;
        int m = tokenList[rest / group.Count];
        int j0 = block * ShrinkRows;
        // The whole group leaves together (before the barrier): one token, module and block.
        if (!a.TryRow(layout, group, layer, m, g, j0, out int slot, out var e))
            return;
        int n = group.InFeatures;
        int warps = Group.DimX / Warp.WarpSize;
        // This warp's share of the features, in whole 8-feature chunks.
        int share = (n / 8 + warps - 1) / warps * 8;
        int kBegin = Warp.WarpIdx * share;
        int kEnd = Math.Min(n, kBegin + share);
        // Rows past the rank repeat the last row (their sums are not written).
        int last = e.AStart + (e.Rank - 1) * n;
        int row0 = e.AStart + j0 * n;
        int row1 = Math.Min(row0 + n, last), row2 = Math.Min(row0 + 2 * n, last), row3 = Math.Min(row0 + 3 * n, last);
        long xRow = (long)m * n;
        var x8 = x.Cast<Half8>();
        var pool8 = a.Pool.Cast<Half8>();
        int stride = 8 * Warp.WarpSize;
        int k = kBegin + 8 * Warp.LaneIdx;
        // Each row's page, found again only when the row crosses into the next (not a division per load).
        PageCursor c0 = PageCursor.Seek(a, layout, slot, layer, row0 + k), c1 = PageCursor.Seek(a, layout, slot, layer, row1 + k);
        PageCursor c2 = PageCursor.Seek(a, layout, slot, layer, row2 + k), c3 = PageCursor.Seek(a, layout, slot, layer, row3 + k);
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        for (; k < kEnd; k += 2 * stride)
        {
            // Two chunks of four rows per iteration, ten 16-byte loads issued together (written out:
            // ILGPU does not unroll an inner loop here). Copies into locals: ILGPU turns a struct
            // copy into one 16-byte load, but a method called on the element in place into a load
            // per field use.
            c0 = c0.Follow(a, layout, slot, layer, row0 + k);
            c1 = c1.Follow(a, layout, slot, layer, row1 + k);
            c2 = c2.Follow(a, layout, slot, layer, row2 + k);
            c3 = c3.Follow(a, layout, slot, layer, row3 + k);
            Half8 xa = x8[(xRow + k) / 8];
            Half8 a0 = pool8[(c0.Offset + row0 + k) / 8];
            Half8 a1 = pool8[(c1.Offset + row1 + k) / 8];
            Half8 a2 = pool8[(c2.Offset + row2 + k) / 8];
            Half8 a3 = pool8[(c3.Offset + row3 + k) / 8];
            int kb = k + stride;
            Half8 xb = default, b0 = default, b1 = default, b2 = default, b3 = default;
            if (kb < kEnd)
            {
                c0 = c0.Follow(a, layout, slot, layer, row0 + kb);
                c1 = c1.Follow(a, layout, slot, layer, row1 + kb);
                c2 = c2.Follow(a, layout, slot, layer, row2 + kb);
                c3 = c3.Follow(a, layout, slot, layer, row3 + kb);
                xb = x8[(xRow + kb) / 8];
                b0 = pool8[(c0.Offset + row0 + kb) / 8];
                b1 = pool8[(c1.Offset + row1 + kb) / 8];
                b2 = pool8[(c2.Offset + row2 + kb) / 8];
                b3 = pool8[(c3.Offset + row3 + kb) / 8];
            }
            s0 += a0.Dot(xa) + b0.Dot(xb);
            s1 += a1.Dot(xa) + b1.Dot(xb);
            s2 += a2.Dot(xa) + b2.Dot(xb);
            s3 += a3.Dot(xa) + b3.Dot(xb);
        }
        s0 = WarpMath.AllSum(s0);
        s1 = WarpMath.AllSum(s1);
        s2 = WarpMath.AllSum(s2);
        s3 = WarpMath.AllSum(s3);
        if (Warp.LaneIdx == 0)
        {
            int at = Warp.WarpIdx * ShrinkRows;
            partial[at] = s0;
            partial[at + 1] = s1;
            partial[at + 2] = s2;
            partial[at + 3] = s3;
        }
        Group.Barrier();
        // (A loop: a group may have fewer threads than rows, as on a CPU device of small warps.)
        for (int r = Group.IdxX; r < ShrinkRows && j0 + r < e.Rank; r += Group.DimX)
        {
            float sum = 0f;
            for (int w = 0; w < warps; w++)
                sum += partial[w * ShrinkRows + r];
            a.Shrunk[((long)m * group.Count + g) * maxRank + j0 + r] = sum;
        }
    }
}
